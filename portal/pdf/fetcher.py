"""The only resources a document may load: the portal's static files and ``data:`` URIs.

Every other scheme, host or path (``file:///etc/passwd``, ``https://…``, ``../``) is
refused: WeasyPrint then leaves the resource out and the document renders without it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint.urls import URLFetcher, URLFetcherResponse

log = logging.getLogger(__name__)

_TYPES = {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png",
          ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".ttf": "font/ttf",
          ".otf": "font/otf", ".woff2": "font/woff2", ".woff": "font/woff"}


class RefusedResource(ValueError):
    """A document asked for something outside the portal's static files."""


class StaticOnlyFetcher(URLFetcher):
    def __init__(self, static_root: Path) -> None:
        super().__init__(timeout=2, allowed_protocols={"file", "data"}, allow_redirects=False)
        self.static_root = static_root.resolve()
        self.refused: list[str] = []

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "data":
            return super().fetch(url, headers)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if path.is_relative_to(self.static_root) and path.is_file():
                media_type = _TYPES.get(path.suffix.lower())
                if media_type is not None:
                    return URLFetcherResponse(url, path.read_bytes(),
                                              {"Content-Type": media_type})
        self.refused.append(url[:200])
        log.warning("document resource refused: %s", url[:200])
        raise RefusedResource(f"resource refused: {url[:200]}")
