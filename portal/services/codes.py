"""Random codes people read and type: an alphabet without look-alike characters."""

from __future__ import annotations

import re
import secrets

#: no 0/O, 1/I/L, no U (avoids accidental words); 30 symbols, about 4.9 bits each.
UNAMBIGUOUS_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
_SEPARATORS = re.compile(r"[\s\-_.]+")


def random_code(length: int) -> str:
    return "".join(secrets.choice(UNAMBIGUOUS_ALPHABET) for _ in range(length))


def normalise_code(raw: str) -> str:
    """What people type or scan, as stored: separators removed, upper case."""
    return _SEPARATORS.sub("", raw or "").upper()


def group(code: str, size: int = 4) -> str:
    """``ABCD2345`` → ``ABCD-2345`` for printing and reading aloud."""
    return "-".join(code[i : i + size] for i in range(0, len(code), size))
