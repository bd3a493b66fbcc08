"""Images sent by the staff (a site's logo, a signature): checked by their content, re-encoded.

What a file *is* is decided by its bytes, never by its name or the type the browser declares:
it must start as a PNG or a JPEG does (magic bytes) **and** decode completely with Pillow, within
a size limit (bytes and pixels, checked on the header before any pixel is decoded: a
decompression bomb is refused before it takes the memory). What is kept is a fresh PNG made
from the pixels alone: text chunks, EXIF (a phone's GPS position), ICC profiles, anything
appended after the image (a polyglot PNG+HTML) or hidden in metadata is left behind. SVG and
every other format are refused. See docs/security.md#uploads.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask_babel import gettext as _
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from portal.services.errors import ValidationFailed

#: the largest file accepted (a logo or a scanned signature is far smaller).
MAX_BYTES = 1024 * 1024
#: the largest width or height, in pixels.
MAX_SIDE = 2000
MIME = "image/png"

_PNG = b"\x89PNG\r\n\x1a\n"
_JPEG = b"\xff\xd8\xff"
_FORMATS = {"PNG": _PNG, "JPEG": _JPEG}


@dataclass(frozen=True)
class CleanImage:
    """A checked image, re-encoded as a PNG."""

    data: bytes
    width: int
    height: int
    mime: str = MIME


_STRICT = threading.Lock()


@contextmanager
def _whole_images_only() -> Iterator[None]:
    """Pillow pads a truncated image with grey when ``ImageFile.LOAD_TRUNCATED_IMAGES`` is set,
    and WeasyPrint sets it for the whole process as it is imported: an upload must decode
    whole, so the flag is off while one is checked (uploads are rare: one at a time)."""
    with _STRICT:
        before = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = before


def _refuse(code: str, message: str, field: str) -> ValidationFailed:
    return ValidationFailed(code, message, fields={field: message})


def clean_image(raw: bytes | None, *, field: str = "image") -> CleanImage:
    """The image as a clean PNG, or a coded refusal naming ``field``."""
    if not raw:
        raise _refuse("upload_missing", _("Choisissez un fichier image (PNG ou JPEG)."), field)
    if len(raw) > MAX_BYTES:
        raise _refuse("upload_too_large",
                      _("Ce fichier est trop gros : 1 Mo au plus."), field)
    declared = next((name for name, magic in _FORMATS.items() if raw.startswith(magic)), None)
    if declared is None:
        raise _refuse("upload_not_image",
                      _("Ce fichier n'est pas une image PNG ou JPEG (les autres formats, "
                        "dont le SVG, ne sont pas acceptés)."), field)
    try:
        with _whole_images_only(), warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(raw), formats=[declared])
            width, height = image.size
            if width > MAX_SIDE or height > MAX_SIDE or width < 1 or height < 1:
                raise _refuse("upload_too_many_pixels",
                              _("Cette image est trop grande : %(side)d pixels de côté au plus.",
                                side=MAX_SIDE), field)
            image.load()  # decodes every pixel: a truncated or forged file fails here
            image = ImageOps.exif_transpose(image)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _refuse("upload_too_many_pixels",
                      _("Cette image est trop grande : %(side)d pixels de côté au plus.",
                        side=MAX_SIDE), field) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise _refuse("upload_unreadable",
                      _("Cette image ne peut pas être lue. Enregistrez-la de nouveau en PNG "
                        "ou en JPEG, puis recommencez."), field) from None
    mode = "RGBA" if image.mode in ("RGBA", "LA", "P", "PA") or "transparency" in image.info \
        else "RGB"
    pixels = Image.new(mode, image.size)
    pixels.paste(image.convert(mode))  # a new image: none of the original's metadata
    out = io.BytesIO()
    pixels.save(out, format="PNG", optimize=True)
    return CleanImage(out.getvalue(), pixels.width, pixels.height)
