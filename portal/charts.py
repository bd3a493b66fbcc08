"""Charts drawn on the server as inline SVG: readable without JavaScript, printable, no inline
style (strict CSP; colours come from classes in ``static/css/portal.css`` and ``print.css``).

Colour is never the only signal: each bar has its label beside it and its value written at its
end. The SVG is ``role="img"`` named by the figure's visible title (``aria-labelledby``); the
figure also gives a one-sentence summary and the data table (templates/staff/reports/).
Every text is escaped by :meth:`markupsafe.Markup.format`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from markupsafe import Markup

from portal.formatting import short_month, short_month_year

WIDTH = 640
ROW = 44  # one horizontal bar: its label line, then the bar
#: bars are filled by an SVG attribute too (a PDF applies no page CSS inside an SVG).
LABEL_SIZE = 15


class Item(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def count(self) -> int: ...


def _svg(height: int, title_id: str, parts: list[Markup], kind: str) -> Markup:
    return Markup(
        '<svg class="chart chart-{kind}" viewBox="0 0 {width} {height}" width="{width}" '
        'height="{height}" role="img" aria-labelledby="{title_id}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMinYMin meet">{body}</svg>'
    ).format(kind=kind, width=WIDTH, height=height, title_id=title_id,
             body=Markup("").join(parts))


def bars(items: Sequence[Item], values: Sequence[str], title_id: str) -> Markup:
    """Horizontal bars, one per item: the label above the bar, ``values[i]`` at its end."""
    top = max((item.count for item in items), default=0) or 1
    room = WIDTH - 150  # what is left for the value written after the longest bar
    parts = []
    for index, (item, value) in enumerate(zip(items, values, strict=True)):
        y = index * ROW
        length = max(round(room * item.count / top), 2 if item.count else 0)
        parts.append(Markup(
            '<text class="chart-label" x="0" y="{label_y}" font-size="{size}">{label}</text>'
            '<rect class="chart-bar" x="0" y="{bar_y}" width="{length}" height="16" rx="2" '
            'fill="#1f4e9e"/>'
            '<text class="chart-value" x="{value_x}" y="{value_y}" font-size="{size}">'
            "{value}</text>"
        ).format(label_y=y + 15, size=LABEL_SIZE, label=item.label, bar_y=y + 21,
                 length=length, value_x=length + 8, value_y=y + 34, value=value))
    return _svg(max(len(items), 1) * ROW, title_id, parts, "bars")


def columns(items: Sequence[Item], values: Sequence[str], title_id: str) -> Markup:
    """Vertical bars by month: the value above each bar, the month's label below it."""
    height, base, gap = 240, 200, 8
    width = (WIDTH - gap) / max(len(items), 1)
    top = max((item.count for item in items), default=0) or 1
    size = 13 if len(items) <= 6 else 11
    parts = [Markup('<line class="chart-axis" x1="0" y1="{base}" x2="{width}" y2="{base}" '
                    'stroke="#767680"/>'
                    ).format(base=base, width=WIDTH)]
    for index, (item, value) in enumerate(zip(items, values, strict=True)):
        x = gap + index * width
        bar = round(160 * item.count / top)
        middle = round(x + (width - gap) / 2, 1)
        parts.append(Markup(
            '<rect class="chart-bar" x="{x}" y="{top}" width="{width}" height="{bar}" rx="2" '
            'fill="#1f4e9e"/>'
            '<text class="chart-value" x="{middle}" y="{value_y}" text-anchor="middle" '
            'font-size="{size}">{value}</text>'
            '<text class="chart-label" x="{middle}" y="{label_y}" text-anchor="middle" '
            'font-size="{size}">{label}</text>'
        ).format(x=round(x, 1), top=base - bar, width=round(width - gap, 1), bar=bar,
                 middle=middle, value_y=base - bar - 6, size=size, value=value,
                 label_y=base + 20, label=_short(item, len(items), index)))
    return _svg(height, title_id, parts, "columns")


def _short(item: Item, count: int, index: int) -> str:
    """A month (its key an ISO day) abbreviated in the language under its column: "nov. 2026"
    for up to six columns, "nov." for up to twelve (the year is in the period), and beyond a
    year only the first column and each January ("janv. 2027"), so that labels never overlap
    (the data table gives every month). Any other label as it is."""
    try:
        month = date.fromisoformat(item.key)
    except ValueError:
        return item.label
    if count <= 6:
        return short_month_year(month)
    if count <= 12:
        return short_month(month)
    return short_month_year(month) if index == 0 or month.month == 1 else ""
