"""The accessibility statement's facts (RGAA model): when it was established, the audit it
rests on, and the state of compliance that follows from it.

The state is not a claim: it follows from the audit's rate by the RGAA's rule (100 %: totally
compliant; at least 50 %: partially; below, or without an audit in force: not compliant).
A centre that has its deployment audited writes the result in ``instance/config.py``::

    ACCESSIBILITY_AUDIT = {"date": "2027-03-15", "rate": 87, "by": "Cabinet X"}
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app

#: when the text of the statement was last established (the pages, tools and results listed).
ESTABLISHED_ON = date(2026, 12, 1)


@dataclass(frozen=True)
class Audit:
    done_on: date
    rate: int  # percentage of the RGAA criteria met on the pages of the sample
    by: str


@dataclass(frozen=True)
class Statement:
    established_on: date
    audit: Audit | None

    @property
    def compliance(self) -> str:
        """``total``, ``partial`` or ``none``, by the RGAA's rule."""
        if self.audit is None or self.audit.rate < 50:
            return "none"
        return "total" if self.audit.rate >= 100 else "partial"


def _audit(raw: Any) -> Audit | None:
    """The audit configured, or None when there is none or it cannot be read."""
    if not isinstance(raw, dict):
        return None
    try:
        rate = int(raw["rate"])
        done_on = date.fromisoformat(str(raw["date"]))
    except (KeyError, TypeError, ValueError):
        return None
    if not 0 <= rate <= 100:
        return None
    return Audit(done_on=done_on, rate=rate, by=str(raw.get("by") or ""))


def statement() -> Statement:
    return Statement(established_on=ESTABLISHED_ON,
                     audit=_audit(current_app.config.get("ACCESSIBILITY_AUDIT")))
