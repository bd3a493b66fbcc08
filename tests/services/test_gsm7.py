"""SMS text in the GSM 03.38 alphabet: conversion and part counting."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.gsm7 import ALPHABET, BASIC, EXTENSION, is_gsm7, segments, septets, to_gsm7


@pytest.mark.parametrize(("text", "expected"), [
    ("œuf, Œuvre", "oeuf, OEuvre"),
    ("l’atelier ‘oui’", "l'atelier 'oui'"),
    ("« Bonjour » “ici”", '" Bonjour " "ici"'),
    ("fête, Noël, âge, île, maïs, hôtel, où, sûr", "fete, Noel, age, ile, mais, hotel, où, sur"),
    ("ça, Ça", "ca, Ça"),  # lower-case ç is not in the basic set, upper-case Ç is
    ("10\u202f€, 14\u00a0h", "10 €, 14 h"),
    ("Attendez…", "Attendez..."),
    ("9 h – 12 h — fin", "9 h - 12 h - fin"),
    ("10 € {ok} [a|b] ~^\\", "10 € {ok} [a|b] ~^\\"),
    ("Merci 🙂👍🏽 !", "Merci  !"),
    ("e\u0301te\u0301", "été"),  # decomposed accents are composed first
    ("ﬁn, x², ½", "fin, x2, 1/2"),
    ("n° 12", "no 12"),
    ("Привет", "??????"),
    ("a\tb\u200bc\x1bd", "a bcd"),
])
def test_conversions(text: str, expected: str) -> None:
    assert to_gsm7(text) == expected
    assert is_gsm7(to_gsm7(text))


def test_french_letters_of_the_basic_set_are_kept() -> None:
    text = "é è ù à É Ç ì ò ä ö ü ñ Ä Ö Ü Ñ ß Æ æ Ø ø Å å"
    assert is_gsm7(text)
    assert to_gsm7(text) == text


def test_is_gsm7() -> None:
    assert is_gsm7("Bonjour, à mardi 14:00 ! 10 €")
    assert not is_gsm7("être")
    assert not is_gsm7("ça")
    assert not is_gsm7("l’atelier")
    assert not is_gsm7("`")


@pytest.mark.parametrize(("text", "parts"), [
    ("", 1),
    ("a" * 160, 1),
    ("a" * 161, 2),
    ("a" * 306, 2),
    ("a" * 307, 3),
    ("€" * 80, 1),  # extension characters take two septets
    ("€" * 81, 2),
    ("a" * 152 + "€" + "a" * 8, 2),  # 162 septets
    ("a" * 152 + "€" + "a" * 152, 3),  # 306 septets, but the € is not split: 152, 153, 1
    ("ê" * 160, 1),  # counted once converted (e), not as UCS-2
])
def test_segments(text: str, parts: int) -> None:
    assert segments(text) == parts


def test_septets_count_extension_characters_twice() -> None:
    assert septets("a€[") == 5


@settings(database=None, max_examples=300)
@given(st.text())
def test_any_text_converts_to_gsm7(text: str) -> None:
    converted = to_gsm7(text)
    assert is_gsm7(converted)
    assert to_gsm7(converted) == converted
    assert segments(text) >= 1


@settings(database=None)
@given(st.text(alphabet=sorted(ALPHABET)))
def test_gsm7_text_is_left_unchanged(text: str) -> None:
    assert to_gsm7(text) == text


def test_alphabet_sizes() -> None:
    assert len(BASIC) == 127  # 128 codes less ESC
    assert len(EXTENSION) == 9  # less the form feed
