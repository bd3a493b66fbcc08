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
