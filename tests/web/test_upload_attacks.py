"""A site's logo and signature image cannot carry an attack: disguised files (an image with a web
page or a script hidden inside, a GIF/script mix, an SVG with a script, a PDF named .png, an image
declaring enormous dimensions, an oversize, empty or cut file) are refused with a plain French
message and nothing stored, or re-drawn into a clean PNG that is served as an image only
(docs/security.md#uploads)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from portal.extensions import db
from portal.models import AuditEvent, Site
from portal.models.vocab import StaffRole
from portal.services import uploads
from tests.conftest import csrf_from, login

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<html><body><img src=x onerror=alert(1)>" + SCRIPT + b"</body></html>"


def png(width: int = 48, height: int = 24) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (31, 78, 158)).save(out, format="PNG")
    return out.getvalue()


def jpeg(width: int = 32, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 120, 10)).save(out, format="JPEG")
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_with_html() -> bytes:
    """A PNG that is also a web page: HTML in a text chunk and after the end of the image."""
    raw = png()
    end = raw.rindex(b"IEND") - 4
    return raw[:end] + chunk(b"tEXt", b"Comment\x00" + HTML) + raw[end:] + HTML


def jpeg_with_html_comment() -> bytes:
    """A JPEG whose comment segment (COM) holds a web page, with more after its end."""
    raw = jpeg()
    comment = b"\xff\xfe" + struct.pack(">H", len(HTML) + 2) + HTML
    return raw[:2] + comment + raw[2:] + HTML


def gif_script_polyglot() -> bytes:
    """Valid as a GIF header and as JavaScript (GIF89a=... assigns a variable)."""
    return b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=1;alert(document.domain);//" + b"\0" * 16


def jpeg_declaring_huge_size() -> bytes:
    """A small JPEG whose frame header announces 60 000 × 60 000 pixels."""
    raw = bytearray(jpeg())
    sof = raw.index(b"\xff\xc0")
    raw[sof + 5:sof + 9] = struct.pack(">HH", 60000, 60000)
    return bytes(raw)


REFUSED = {
    "GIF/JavaScript polyglot": (gif_script_polyglot(), "pas une image PNG ou JPEG"),
    "SVG with a script": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                          + SCRIPT + b"</svg>", "dont le SVG"),
    "HTML named .png": (HTML, "pas une image PNG ou JPEG"),
    "PDF named .png": (b"%PDF-1.4\n1 0 obj<</OpenAction<</S/JavaScript/JS(alert(1))>>>>endobj\n"
                       b"%%EOF", "pas une image PNG ou JPEG"),
    "script behind the PNG signature": (b"\x89PNG\r\n\x1a\n" + SCRIPT, "ne peut pas être lue"),
    "JPEG declaring 60 000 pixels a side": (jpeg_declaring_huge_size(), "trop grande"),
    "image over 2000 pixels": (png(2400, 10), "trop grande"),
    "file over 1 MB": (b"\x89PNG\r\n\x1a\n" + b"\0" * (uploads.MAX_BYTES + 1), "trop gros"),
    "empty file": (b"", "Choisissez un fichier image"),
    "truncated PNG": (png()[:70], "ne peut pas être lue"),
}

CLEANED = {
    "PNG with a web page inside and after it": png_with_html(),
    "JPEG with a web page in its comment and after it": jpeg_with_html_comment(),
}


@pytest.fixture
def admin(app, factory):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    client = app.test_client()
    assert login(client, factory.staff(site, StaffRole.ADMIN).email).status_code == 303
    client.token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    client.site = site
    return client


def send(admin, which: str, raw: bytes, name: str = "image.png"):
    """The upload form posted as a browser does (the body built here: no temporary file)."""
    boundary = "----portail"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{admin.token}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{which}"; filename="{name}"\r\nContent-Type: image/png\r\n\r\n').encode() \
        + raw + f"\r\n--{boundary}--\r\n".encode()
    return admin.post(f"/equipe/lieux/{admin.site.id}/{which}", data=body,
                      content_type=f"multipart/form-data; boundary={boundary}")


def stored(site: Site) -> Site:
    db.session.expire_all()
    return db.session.get(Site, site.id)


def test_disguised_and_broken_files_are_refused_and_nothing_is_stored(admin):
    column = {"logo": "logo", "signature": "signature_image"}
    for which in ("logo", "signature"):
        for case, (raw, message) in REFUSED.items():
            response = send(admin, which, raw)
            label = f"{case} as {which}"
            assert response.status_code == 422, label
            page = response.get_data(as_text=True)
            assert message in page and f'href="#{which}"' in page, label
            assert "<script>alert" not in page and "onerror=alert" not in page, label
            assert getattr(stored(admin.site), column[which]) is None, label
            assert admin.get(f"/equipe/lieux/{admin.site.id}/{which}").status_code == 404
    actions = set(db.session.scalars(db.select(AuditEvent.action)))
    assert not actions & {"site.logo_set", "site.signature_set"}


def test_hidden_content_is_dropped_and_only_a_clean_png_is_served(admin):
    for which in ("logo", "signature"):
        for case, raw in CLEANED.items():
            assert HTML in raw
            assert send(admin, which, raw, name="page.html").status_code == 303, case
            served = admin.get(f"/equipe/lieux/{admin.site.id}/{which}")
            assert served.status_code == 200, case
            assert served.headers["Content-Type"] == "image/png"
            assert served.headers["X-Content-Type-Options"] == "nosniff"
            assert served.headers["Content-Disposition"] == f'inline; filename="{which}.png"'
            data = served.data
            for marker in (b"<script", b"<html", b"onerror", b"alert("):
                assert marker not in data, (case, marker)
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
            Image.open(io.BytesIO(data)).verify()  # whole and well formed
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                assert image.format == "PNG" and not image.text and "comment" not in image.info
