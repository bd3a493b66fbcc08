"""The speed budgets of issue 14, in one table: each figure of `make bench` is marked against
its budget (met / not met).

A budget is either a ratio to the framework's floor (``min_ratio``: floor ÷ value, so 0.2 means
"at most 5× the floor") or an absolute ceiling on the value (``max_value``, in the figure's unit).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    text: str
    min_ratio: float | None = None
    max_value: float | None = None

    def met(self, value: float | None, ratio: float | None) -> bool | None:
        """True or False against the budget; None when the figure was not measured."""
        if self.min_ratio is not None:
            return None if ratio is None else ratio >= self.min_ratio
        if self.max_value is not None:
            return None if value is None else value <= self.max_value
        return None


PAGE = Budget("CPU ≤ 5× floor", min_ratio=0.2)

#: figure name -> its budget; a figure without an entry is reported, not judged.
BUDGETS: dict[str, Budget] = {
    "home": PAGE,
    "my workshops": PAGE,
    "find (a query)": PAGE,
    "find (filters)": PAGE,
    "check-in roster fragment (200)": PAGE,
    "check-in roster poll (304)": Budget("CPU ≤ 2× floor", min_ratio=0.5),
    "check-in page": PAGE,
    "staff sessions of the week": PAGE,
    "programme of the week": PAGE,
    "network overview": PAGE,
    "check-in scan": PAGE,
    "booking": PAGE,
    "booking cancelled": PAGE,
    "cheque redemption": PAGE,
    "dashboard (a year)": PAGE,
    "dashboard (a year), answered in": Budget("< 0.5 s (PostgreSQL, scale 1)", max_value=500),
    "certificate download": PAGE,
    # Certificates: ratio = the floor's cost ÷ this one's.
    "certificate in a batch vs separate": Budget("≤ 0.6× separate", min_ratio=1 / 0.6),
    "certificate in a batch": Budget("≤ 1.5× minimal page", min_ratio=1 / 1.5),
    "worst write during a closing": Budget("< 200 ms", max_value=200.0),
    # rows streamed, never held: the worker stays near its resident size at any scale
    "export of a year (CSV), memory": Budget("flat: ≤ 50 MB above resident", max_value=50.0),
    "export of a year (XLSX), memory": Budget("flat: ≤ 50 MB above resident", max_value=50.0),
}
