"""Folding text for searching: what a person types and what the catalogue says, compared
without case, accents or punctuation (pure functions, no database)."""

from __future__ import annotations

import re
import unicodedata

#: hyphens join the words they link ("e-mail" is "email", "rendez-vous" "rendezvous").
_JOINERS = re.compile(r"[-\u2010\u2011\u00ad]")
_NOT_A_LETTER = re.compile(r"[^0-9a-z]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d"})


def fold(text: str) -> str:
    """Lower case ASCII words separated by one space: no accents, ligatures spelled out,
    hyphens joined, every other sign a space (``"L'E-mail, ça !"`` → ``"l email ca"``)."""
    decomposed = unicodedata.normalize("NFKD", (text or "").casefold().translate(_LIGATURES))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_A_LETTER.sub(" ", _JOINERS.sub("", bare)).strip()


def searchable(*parts: str) -> str:
    """The folded search text of several fields, with a space at each end so that a word
    can be matched from its start (``LIKE '% mail%'``)."""
    folded = " ".join(word for part in parts for word in fold(part).split())
    return f" {folded} "


# --- people: what the desk types to find someone -----------------------------------------------

_SOUNDS = (  # applied in order to a folded word
    (re.compile(r"ph"), "f"), (re.compile(r"qu|ck|q"), "k"), (re.compile(r"sch|sh"), "ch"),
    (re.compile(r"c(?=[eiy])"), "s"), (re.compile(r"c(?!h)"), "k"),
    (re.compile(r"g(?=[eiy])"), "j"), (re.compile(r"gu(?=[eiy])"), "g"),
    (re.compile(r"(?<!c)h"), ""), (re.compile(r"y"), "i"), (re.compile(r"w"), "v"),
    (re.compile(r"eau|au"), "o"), (re.compile(r"ai|ei"), "e"), (re.compile(r"m(?=[bp])"), "n"),
    (re.compile(r"e(?=n)"), "a"), (re.compile(r"z"), "s"), (re.compile(r"(.)\1+"), r"\1"),
    (re.compile(r"(?<=.)[dtsxe]+$"), ""),
)


def sound(word: str) -> str:
    """A rough French phonetic key of one folded word: "durand", "durant" and "durrand" give
    "duran", "helene" and "hélène" "elan". Digits are kept as they are."""
    if not word or word.isdigit():
        return word
    for pattern, replacement in _SOUNDS:
        word = pattern.sub(replacement, word)
    return word


def phone_digits(phone: str) -> str:
    """The digits of a phone number, French international prefix written as a 0
    (``+33 6 12 34 56 78`` and ``06.12.34.56.78`` both give ``0612345678``)."""
    digits = "".join(ch for ch in phone or "" if ch.isdigit())
    for prefix in ("0033", "33"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 9:
            return "0" + digits[len(prefix):]
    return digits


def person_search_text(first_name: str, last_name: str, email: str, phone: str) -> str:
    """The folded words of a person's names and e-mail and the digits of their phone."""
    return searchable(first_name, last_name, email, phone_digits(phone))


def person_search_key(first_name: str, last_name: str) -> str:
    """How a person's names sound, word by word (``" elan duran "``)."""
    sounds = " ".join(sound(word) for word in fold(f"{first_name} {last_name}").split())
    return f" {sounds} "[:200]
