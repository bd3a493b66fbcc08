"""The fonts the portal ships (package.json, copied by `make assets`): every face the pages and
the documents declare exists, and together they cover Latin, Arabic and the common symbols."""

from __future__ import annotations

import re

import pytest
from fontTools.ttLib import TTFont

from portal.pdf.render import FONT_DIR, STATIC_ROOT

#: what people's names and the portal's texts need, beyond ASCII.
NEEDED = "éèêàçœŒ’«»…€–—\u202f\u00a0✓✔→⚠✉☎" + "فاطمة الزهراء بن علي"


def font_faces(css: str) -> list[tuple[str, str | None]]:
    """(file, unicode-range or None) of every @font-face of a stylesheet, in order."""
    faces = []
    for block in re.findall(r"@font-face\s*{(.*?)}", css, re.S):
        url = re.search(r'url\("\.\./([^"]+)"\)', block)
        assert url, block
        unicode_range = re.search(r"unicode-range:\s*([^;]+);", block)
        faces.append((url.group(1), unicode_range.group(1) if unicode_range else None))
    return faces


@pytest.mark.parametrize("stylesheet", ["print.css", "portal.css"])
def test_every_declared_face_is_shipped(stylesheet):
    faces = font_faces((STATIC_ROOT / "css" / stylesheet).read_text())
    assert faces
    for path, _range in faces:
        assert (STATIC_ROOT / path).is_file(), f"{path}: run `make assets`"


def test_the_shipped_fonts_cover_latin_arabic_and_symbols():
    covered: set[int] = set()
    for path in FONT_DIR.glob("*.ttf"):
        with TTFont(path) as font:
            covered |= set(font.getBestCmap())
    missing = [char for char in NEEDED if not char.isspace() and ord(char) not in covered]
    assert not missing, missing


def test_pages_try_source_sans_first_and_the_fallbacks_only_in_their_ranges():
    """Browsers try the faces of a family last declared first: Source Sans 3 (every
    character) comes after the fallbacks, which cover only the ranges they are for."""
    faces = font_faces((STATIC_ROOT / "css" / "portal.css").read_text())
    fallbacks = [i for i, (_path, unicode_range) in enumerate(faces) if unicode_range]
    main = [i for i, (_path, unicode_range) in enumerate(faces) if not unicode_range]
    assert fallbacks and main and max(fallbacks) < min(main)
    assert all("SourceSans3" in faces[i][0] for i in main)
