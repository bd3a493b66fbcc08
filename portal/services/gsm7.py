"""The GSM 03.38 alphabet of SMS: converting any text to it, counting the parts it takes.

An SMS in the GSM-7 alphabet holds 160 characters (153 per part when split); one character
outside it makes the whole message UCS-2 (70 characters, 67 per part), which more than
doubles the cost. So every SMS is converted: French accents outside the alphabet lose
their accent (ê → e, ç → c), typographic signs become their plain form, emoji go.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

#: the basic character set (ESC, 0x1B, is left out: it introduces the extension table).
BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: the extension table: each of these takes two septets (ESC + the character).
EXTENSION = frozenset("^{}\\[~]|€")
ALPHABET = BASIC | EXTENSION

SINGLE_LENGTH = 160
PART_LENGTH = 153  # 7 septets of each part carry the concatenation header

#: characters replaced by a plain equivalent (what Unicode decomposition does not give).
_REPLACEMENTS = {
    "œ": "oe", "Œ": "OE",
    "’": "'", "‘": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'", "‹": "'", "›": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"', "»": '"', "″": '"',
    "…": "...",
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-", "•": "-",
    "·": ".", "⁄": "/", "÷": "/", "×": "x", "°": "o", "©": "(c)", "®": "(R)", "¦": "|",
    "\t": " ", "\u2028": "\n", "\u2029": "\n", "\x85": "\n",
}


def is_gsm7(text: str) -> bool:
    """True when every character is in the GSM-7 alphabet (basic or extension table)."""
    return all(char in ALPHABET for char in text)


def to_gsm7(text: str) -> str:
    """The text in the GSM-7 alphabet: transliterated where possible, else dropped or ``?``."""
    if is_gsm7(text):
        return text
    # Composed first, so that "e" + combining acute is "é" (in the alphabet), not "e".
    return "".join(_convert(char) for char in unicodedata.normalize("NFC", text))


def septets(text: str) -> int:
    """How many 7-bit units the text takes once converted (extension characters take 2)."""
    return sum(2 if char in EXTENSION else 1 for char in to_gsm7(text))


def segments(text: str) -> int:
    """How many SMS parts the text takes once converted (an empty SMS still takes one).

    A two-septet character is never split between parts, as phones and gateways do.
    """
    units = [2 if char in EXTENSION else 1 for char in to_gsm7(text)]
    if sum(units) <= SINGLE_LENGTH:
        return 1
    parts, used = 1, 0
    for unit in units:
        if used + unit > PART_LENGTH:
            parts, used = parts + 1, 0
        used += unit
    return parts


@lru_cache(maxsize=2048)
def _convert(char: str) -> str:
    if char in ALPHABET:
        return char
    if char in _REPLACEMENTS:
        return _REPLACEMENTS[char]
    category = unicodedata.category(char)
    if category == "Zs":  # no-break, narrow no-break, thin … spaces
        return " "
    if category[0] == "C":  # controls, format characters (zero-width joiner), surrogates
        return ""
    plain = _decomposed(char)
    if plain is not None:
        return plain
    # Emoji, other symbols, modifiers and lone accents go; unknown letters show as "?".
    return "" if category in {"So", "Sk", "Mn", "Mc", "Me"} else "?"


def _decomposed(char: str) -> str | None:
    """ê → e, ç → c, ﬁ → fi, ² → 2 … or None when decomposition gives no GSM-7 text."""
    parts = [
        _REPLACEMENTS.get(part, part)
        for part in unicodedata.normalize("NFKD", char)
        if not unicodedata.category(part).startswith("M")
    ]
    plain = "".join(parts)
    if plain and plain != char and is_gsm7(plain):
        return plain
    return None
