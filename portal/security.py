"""Security headers and caching rules on every response (docs/security.md#headers)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, abort, request
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from portal.config import is_production

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


class RowId(IntegerConverter):
    """``<int:…>`` in URLs: an id beyond a 32-bit integer matches no route (404), instead of
    overflowing the database driver (500)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul_bytes() -> None:
    """A NUL byte is never text a person typed, and PostgreSQL refuses it in strings: 400
    (in the path, a parameter's name or its value). So is a form part without a name (a
    malformed multipart body, which may hide one)."""
    if "\x00" in request.path:
        abort(400)
    for key, values in request.values.lists():
        if key is None or "\x00" in key or any("\x00" in (value or "") for value in values):
            abort(400)


def init_app(app: Flask) -> None:
    app.url_map.converters["int"] = RowId  # before any blueprint adds its rules
    app.before_request(_refuse_nul_bytes)
    hops = int(app.config.get("TRUST_PROXY_HOPS") or 0)
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    production = is_production(app)

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["Cross-Origin-Resource-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
        if production:
            headers["Strict-Transport-Security"] = (
                f"max-age={app.config['HSTS_SECONDS']}; includeSubDomains"
            )
        if request.endpoint != "static":
            # Pages carry personal data or CSRF tokens: never store them (shared PCs).
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        return response
