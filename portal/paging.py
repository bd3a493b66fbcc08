"""Pages of a list that grows (search results, a person's past workshops, the sites).

One rule for every paginated list: the page asked for comes from the query string, a value
that is not a page number is page 1, a number past the end is the last page (never a 500,
never an empty page); the links of the shared macro ``_macros/pagination.html`` keep the
other query parameters (the filters).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from portal.forms import parse_id

#: the query parameter of the page number.
PARAMETER = "page"


@dataclass(frozen=True)
class Pages:
    """Where a page stands in its list: its number (from 1), how many pages, how many items."""

    page: int
    pages: int
    total: int
    size: int

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.page - 1) * self.size

    @property
    def numbers(self) -> range:
        return range(1, self.pages + 1)


def asked_page(args: Mapping[str, str]) -> int:
    """The page number in a query string: 1 when absent or not a number ("abc", "-2", "0")."""
    return parse_id(args.get(PARAMETER)) or 1


def pages_of(total: int, size: int, asked: int) -> Pages:
    """The page ``asked`` of ``total`` items shown ``size`` at a time, within bounds."""
    pages = max(1, -(-total // size))
    return Pages(min(max(asked, 1), pages), pages, total, size)


def other_args(args: Mapping[str, str]) -> dict[str, str]:
    """The query parameters a page's links keep: all but the page number."""
    return {name: value for name, value in args.items() if name != PARAMETER and value}
