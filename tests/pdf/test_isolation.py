"""A document loads nothing but the portal's static files and data: URIs, and a render that
runs too long is stopped without stopping the next one."""

from __future__ import annotations

import io
import time

import pytest
from pypdf import PdfReader

from portal.pdf.fetcher import RefusedResource, StaticOnlyFetcher
from portal.pdf.render import FONT_DIR, STATIC_ROOT, PdfRenderError, render_pdf
from tests.pdf.helpers import fonts, pdf_text

# --- the fetcher ------------------------------------------------------------------------------


@pytest.fixture
def fetcher() -> StaticOnlyFetcher:
    return StaticOnlyFetcher(STATIC_ROOT)


@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "https://example.com/x.png",
    "http://127.0.0.1:5000/static/css/print.css",
    "ftp://example.com/x.css",
    STATIC_ROOT.as_uri() + "/../../../../etc/passwd",
    STATIC_ROOT.as_uri() + "/css/%2e%2e/%2e%2e/pyproject.toml",
    (STATIC_ROOT.parent / "pyproject.toml").as_uri(),
    "file://attacker.example" + str(STATIC_ROOT / "css" / "print.css"),
    STATIC_ROOT.as_uri() + "/css",
    STATIC_ROOT.as_uri() + "/css/missing.css",
], ids=["passwd", "https", "http-localhost", "ftp", "dot-dot", "encoded-dot-dot",
        "project-file", "remote-host", "directory", "missing"])
def test_fetcher_refuses_everything_but_static_files(url, fetcher):
    with pytest.raises(RefusedResource):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_fetcher_refuses_a_symlink_out_of_static_and_unknown_types(tmp_path):
    root = tmp_path / "static"
    root.mkdir()
    (root / "evil.css").symlink_to("/etc/passwd")
    (root / "page.html").write_text("<p>no</p>")
    (root / "fine.css").write_text("p { color: red }")
    fetcher = StaticOnlyFetcher(root)
    for name in ("evil.css", "page.html"):
        with pytest.raises(RefusedResource):
            fetcher.fetch((root / name).as_uri())
    assert fetcher.fetch((root / "fine.css").as_uri()).read() == b"p { color: red }"


def test_fetcher_serves_static_files_and_data_uris(fetcher):
    css = fetcher.fetch((STATIC_ROOT / "css" / "print.css").as_uri())
    assert css.content_type == "text/css"
    assert b"@font-face" in css.read()
    font = fetcher.fetch((FONT_DIR / "SourceSans3-Regular.ttf").as_uri())
    assert font.content_type == "font/ttf" and len(font.read()) > 10_000
    data = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert data.read() == b"hello"
    assert fetcher.refused == []


HOSTILE_HTML = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Essai</title>
<link rel="stylesheet" href="https://example.com/x.css">
<link rel="stylesheet" href="file:///etc/passwd">
<style>
  @import url("file:///etc/passwd");
  @font-face { font-family: Evil; src: url("file:///etc/passwd"); }
  body { background: url("../../../../etc/passwd"); font-family: Evil, sans-serif; }
</style></head>
<body>
<p>Début du document</p>
<img src="file:///etc/passwd" alt="">
<img src="https://example.com/x.png" alt="">
<img src="../../../../etc/passwd" alt="">
<object data="file:///etc/passwd"></object>
<embed src="file:///etc/passwd">
<iframe src="file:///etc/passwd"></iframe>
<a rel="attachment" href="file:///etc/passwd">pièce jointe</a>
<p>Fin du document</p>
</body></html>"""


def test_a_document_asking_for_other_files_gets_nothing():
    pdf = render_pdf(HOSTILE_HTML)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Début du document" in text and "Fin du document" in text
    assert "root:" not in text
    assert b"root:" not in pdf
    reader = PdfReader(io.BytesIO(pdf))
    assert not reader.attachments
    assert all("Source" in name for name, _embedded in fonts(pdf))


# --- the time limit ---------------------------------------------------------------------------


def test_a_render_past_the_time_limit_is_stopped_and_the_next_one_works():
    render_pdf("<p>Mise en route</p>")  # a worker is ready: the limit measures the render only
    rows = "".join(f"<tr><td>Ligne {n}</td><td>{'mot ' * 20}</td></tr>" for n in range(60_000))
    started = time.monotonic()
    with pytest.raises(PdfRenderError, match="more than"):
        render_pdf(f"<table>{rows}</table>", timeout=0.5)
    assert time.monotonic() - started < 5
    after = render_pdf("<p>Rendu suivant</p>")
    assert "Rendu suivant" in pdf_text(after)

