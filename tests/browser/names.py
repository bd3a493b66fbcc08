"""Accessible names of actions whose visible verb is completed by visually hidden words.

``Pointage<span class="visually-hidden">, Atelier</span>``: the hidden part is out of flow, so
Chromium puts a space between the two when it computes the name ("Pointage , Atelier"); other
engines do not. Tests match either, and nothing else.
"""

from __future__ import annotations

import re


def action(verb: str, *rest: str, whole: bool = True) -> re.Pattern[str]:
    """The name ``verb, rest…`` as a browser computes it, whole or as a prefix."""
    tail = ", ".join(re.escape(part) for part in rest)
    return re.compile(rf"^{re.escape(verb)} ?, {tail}" + ("$" if whole else ""))
