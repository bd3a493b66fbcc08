"""Uploaded images: decided by their content, limited in size, re-encoded to a clean PNG."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from portal.services import uploads
from portal.services.errors import ValidationFailed


def png(width: int = 40, height: int = 20, color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (30, 30), (10, 120, 10))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"  # Make
    exif[0x9286] = "GPS 50.40N 2.86E"  # UserComment-ish text
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def refused(raw: bytes | None, code: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        uploads.clean_image(raw, field="logo")
    assert caught.value.code == code
    assert caught.value.details["fields"]["logo"]
    return caught.value


def test_a_png_is_kept_as_a_png_of_the_same_size(app):
    with app.test_request_context():
        image = uploads.clean_image(png(), field="logo")
    assert image.data.startswith(b"\x89PNG") and (image.width, image.height) == (40, 20)
    assert Image.open(io.BytesIO(image.data)).getpixel((1, 1)) == (200, 30, 30)


def test_a_jpeg_becomes_a_png_without_its_exif(app):
    raw = jpeg_with_exif()
    assert b"SecretCameraMaker" in raw
    with app.test_request_context():
        image = uploads.clean_image(raw, field="logo")
    assert image.data.startswith(b"\x89PNG") and image.mime == "image/png"
    assert b"SecretCameraMaker" not in image.data and b"Exif" not in image.data
    assert not Image.open(io.BytesIO(image.data)).getexif()


def test_a_script_named_png_is_refused(app):
    with app.test_request_context():
        refused(b"#!/bin/sh\nrm -rf /\n", "upload_not_image")
        refused(b"<script>alert(1)</script>", "upload_not_image")


def test_a_script_behind_png_magic_bytes_is_refused(app):
    with app.test_request_context():
        refused(b"\x89PNG\r\n\x1a\n<script>alert(document.cookie)</script>", "upload_unreadable")


def test_a_polyglot_png_html_is_neutralised(app):
    html = b"<html><body><script>alert(document.domain)</script></body></html>"
    raw = png()
    end = raw.rindex(b"IEND") - 4
    # in a text chunk and after the end of the image
    polyglot = raw[:end] + chunk(b"tEXt", b"Comment\x00" + html) + raw[end:] + html
    assert html in polyglot
    with app.test_request_context():
        image = uploads.clean_image(polyglot, field="logo")
    assert b"<script" not in image.data and b"<html" not in image.data
    assert image.data.endswith(b"IEND\xaeB`\x82")


def test_an_svg_with_a_script_is_refused(app):
    svg = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
           b'<script>alert(1)</script><rect width="10" height="10"/></svg>')
    with app.test_request_context():
        refused(svg, "upload_not_image")


def test_a_file_over_the_limit_is_refused_before_decoding(app):
    with app.test_request_context():
        refused(b"\x89PNG\r\n\x1a\n" + b"\0" * (50 * 1024 * 1024), "upload_too_large")
        refused(b"\x89PNG\r\n\x1a\n" + b"\0" * uploads.MAX_BYTES, "upload_too_large")


def test_a_decompression_bomb_is_refused_from_its_header(app):
    # 30 000 × 30 000 pixels announced: 900 million pixels, a few kilobytes of file.
    header = struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\0" * (1 + 30000 * 3) * 50)
    bomb = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body)
            + chunk(b"IEND", b""))
    assert len(bomb) < uploads.MAX_BYTES
    with app.test_request_context():
        error = refused(bomb, "upload_too_many_pixels")
    assert "2000" in error.message


def test_an_image_just_too_large_is_refused(app):
    with app.test_request_context():
        refused(png(2001, 10), "upload_too_many_pixels")


def test_a_truncated_image_is_refused_even_once_weasyprint_is_imported(app):
    """WeasyPrint makes Pillow pad truncated images for the whole process."""
    import weasyprint  # noqa: F401  (its import sets ImageFile.LOAD_TRUNCATED_IMAGES)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    with app.test_request_context():
        refused(png()[:60], "upload_unreadable")
    assert ImageFile.LOAD_TRUNCATED_IMAGES  # left as WeasyPrint wants it


def test_nothing_sent_and_a_truncated_image_are_refused(app):
    with app.test_request_context():
        refused(b"", "upload_missing")
        refused(None, "upload_missing")
        refused(png()[:60], "upload_unreadable")
        refused(b"GIF89a" + b"\0" * 20, "upload_not_image")


def test_transparency_is_kept(app):
    out = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(out, format="PNG")
    with app.test_request_context():
        image = uploads.clean_image(out.getvalue(), field="logo")
    assert Image.open(io.BytesIO(image.data)).mode == "RGBA"
