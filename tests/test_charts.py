"""Charts drawn on the server: month labels that never overlap, escaped labels."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from portal import charts


@dataclass
class Item:
    key: str
    label: str
    count: int


def months(first: date, count: int) -> list[Item]:
    items, year, month = [], first.year, first.month
    for _ in range(count):
        items.append(Item(date(year, month, 1).isoformat(), f"{month}/{year}", 3))
        year, month = year + month // 12, month % 12 + 1
    return items


def labels(svg: str) -> list[str]:
    return re.findall(r'<text class="chart-label"[^>]*>([^<]*)</text>', svg)


def test_month_columns_are_labelled_without_overlapping(app):
    with app.test_request_context():
        quarter = months(date(2026, 10, 1), 3)
        assert labels(charts.columns(quarter, ["3"] * 3, "t")) == [
            "oct. 2026", "nov. 2026", "déc. 2026"]
        year = months(date(2026, 1, 1), 12)
        assert labels(charts.columns(year, ["3"] * 12, "t"))[8:] == [
            "sept.", "oct.", "nov.", "déc."]
        long = labels(charts.columns(months(date(2025, 11, 1), 26), ["3"] * 26, "t"))
        assert [label for label in long if label] == ["nov. 2025", "janv. 2026", "janv. 2027"]


def test_labels_are_escaped(app):
    with app.test_request_context():
        svg = charts.bars([Item("x", "<script>alert(1)</script>", 2)], ["2"], "t")
        assert "<script>" not in svg and "&lt;script&gt;" in svg
