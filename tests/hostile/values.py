"""Hostile values for query parameters, form fields and path arguments (hypothesis strategies).

Every strategy shrinks towards the simplest value, so a failure is reported with the
plainest input that still breaks the route: a missing field, then an empty string, then
the short curated values below, before generated text.
"""

from __future__ import annotations

from hypothesis import strategies as st

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

#: Curated values, simplest first (hypothesis shrinks towards the front of the list).
CURATED: tuple[str, ...] = (
    "",
    " ",
    "0",
    "1",
    "-1",
    "\n",
    "\r\n",
    "\t",
    "a\nb",
    "/\n",
    "/x\r\nSet-Cookie: injected=1",
    # unicode digits and numbers that str.isdigit() accepts but int() may not
    "²",
    "³",
    "¹²",
    "١٢٣",  # Arabic-Indic digits
    "۴",  # Extended Arabic-Indic
    "߁",  # NKo digit
    "𝟙",  # mathematical bold digit
    "Ⅻ",
    "½",
    "①",
    # numbers out of range, signs, floats, exponents
    "-0",
    "+1",
    "007",
    " 7 ",
    "1.5",
    "1e3",
    "1E309",
    "nan",
    "inf",
    "-inf",
    "0x10",
    "1_000",
    str(INT32_MAX),
    str(INT32_MAX + 1),
    str(2**32),
    str(INT64_MAX),
    str(INT64_MAX + 1),
    str(2**64),
    str(-(2**63) - 1),
    "9" * 20,
    "9" * 400,
    # dates and months out of range or impossible
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "2026-13-01",
    "2026-00-10",
    "10000-01-01",
    "-0001-01-01",
    "2026-W48",
    "2026-11-26T10:00",
    "26/11/2026",
    "2026-11",
    "2026-13",
    "0000-00",
    "9999-99",
    "1999-12",
    "2101-01",
    "2026-1",
    "-2026-01",
    "2026-1e1",
    "٢٠٢٦-١١",
    # markup, templates, SQL, format strings
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}}",
    "${7*7}",
    "' OR 1=1 --",
    "'; DROP TABLE booking; --",
    "%",
    "_",
    "\\",
    "%(x)s",
    "%s%s%s%n",
    "{0}",
    "{}",
    "{x.__class__}",
    # redirects and paths
    "/",
    "//evil.example",
    "/\\evil.example",
    "https://evil.example",
    "javascript:alert(1)",
    "/mon-espace/?x=\n",
    "/%0d%0aLocation:%20https://evil.example",
    "../../../../etc/passwd",
    # scripts, directions, invisible and combining characters
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u200b",
    "\ufeff",
    "\u0301",
    "\u0085",
    "\u2028",
    "مرحبا بكم",
    "שלום",
    "Ελληνικά",
    "🙂",
    "👩\u200d👩\u200d👧",
    "ﷺ",
    "\x01\x1b[31m\x7f",
    # words that code might take for something else
    "true",
    "false",
    "null",
    "None",
    "undefined",
    "[]",
    "on",
    "off",
    "1,2",
    "1;2",
    # NUL bytes: refused with 400 by design
    "\x00",
    "1\x00",
    # very long values
    "A" * 10_240,
    "é" * 5_000,
    "🙂" * 2_600,
    "1" * 10_240,
    "\n" * 2_000,
)

NUL = "\x00"

#: One value of each kind that has broken routes: sent in every field at once, route by route,
#: before the random examples (each kind, tried by chance, would be missed too often).
BATTERY: tuple[str, ...] = (
    "", " ", "\n", "/\n", "a\r\nb", "\t", "²", "١٢٣", "𝟙", "½", "-1", "0", "1.5", "1e3", "+1",
    str(INT32_MAX + 1), str(INT64_MAX + 1), "9" * 20, "0001-01-01", "9999-12-31", "2026-02-30",
    "2026-13", "9999-99", "0000-00", "%(x)s", "{0}", "<script>alert(1)</script>",
    "' OR 1=1 --", "\u202e", "🙂", "مرحبا", "A" * 10_240, NUL,
)


def unicode_digits() -> st.SearchStrategy[str]:
    """Strings of characters that are digits or numbers somewhere in Unicode."""
    return st.text(st.characters(categories=("Nd", "No", "Nl")), min_size=1, max_size=12)


def numbers() -> st.SearchStrategy[str]:
    """Integers of every size and sign, floats, exponents, as text."""
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.sampled_from((INT32_MAX, INT64_MAX)).flatmap(
            lambda edge: st.integers(min_value=edge - 2, max_value=edge + 2).map(str)),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.from_regex(r"[+-]?[0-9]{0,3}(\.[0-9]{0,3})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    )


def dates() -> st.SearchStrategy[str]:
    """Dates and months, real ones near the edges and impossible ones."""
    return st.one_of(
        st.dates().map(lambda day: day.isoformat()),
        st.dates().map(lambda day: day.isoformat()[:7]),
        st.from_regex(r"-?[0-9]{1,6}-[0-9]{1,3}(-[0-9]{1,3})?", fullmatch=True),
    )


def hostile_text() -> st.SearchStrategy[str]:
    """Any text: control characters, every script, emoji (no surrogates: not encodable)."""
    return st.text(max_size=40)


def hostile() -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(CURATED), unicode_digits(), numbers(), dates(),
                     hostile_text())


def near(valid: str) -> st.SearchStrategy[str]:
    """A valid value bent: padded, doubled, cased, cut, with a newline or a digit added."""
    return st.sampled_from((
        f" {valid}", f"{valid} ", f"{valid}\n", f"\n{valid}", valid.upper(), valid.title(),
        valid * 2, valid[:-1], f"{valid}0", f"-{valid}", f"{valid}\u200f", f"{valid}²",
    ))


def field(valid: list[str]) -> st.SearchStrategy[list[str] | None]:
    """What a browser, a bot or a scanner may send for one field.

    ``None``: the field is missing; one value; or the key repeated. Values are the ones the
    page offers, bent versions of them, or hostile ones.
    """
    choices = [st.sampled_from(valid), st.sampled_from(valid).flatmap(near)] if valid else []
    one = st.one_of(*choices, hostile())
    return st.one_of(st.none(), one.map(lambda value: [value]),
                     st.lists(one, min_size=2, max_size=3))


#: Keys no form has but an attacker tries (extra fields are ignored:
#: docs/security.md#declared-fields).
TEMPTING: tuple[str, ...] = (
    "role", "is_network_admin", "is_admin", "beneficiary_id", "person_id", "staff_id",
    "site_id", "status", "seats_taken", "capacity", "price_cheques", "id", "user_id", "lang",
    "next", "_method", "__proto__", "q[]", "a[b]",
)


def extra() -> st.SearchStrategy[dict[str, list[str]]]:
    """Up to two keys the route does not expect, with hostile values."""
    key = st.one_of(st.sampled_from(TEMPTING), st.text(min_size=1, max_size=12))
    return st.dictionaries(key, st.lists(hostile(), min_size=1, max_size=2), max_size=2)


def path_text() -> st.SearchStrategy[str]:
    """Hostile values for string path arguments (tokens, codes, file names)."""
    return st.one_of(st.sampled_from([value for value in CURATED if value]),
                     st.text(min_size=1, max_size=40))


#: Raw path segments for ``<int:…>`` arguments that no object of the scene has.
RAW_IDS: tuple[str, ...] = (
    "999999", "0", str(INT32_MAX), str(INT32_MAX + 1), str(INT64_MAX + 1), "9" * 30, "-1",
    "1.5", "1e3", "²", "١", "𝟙", "%0A1", "1%00",
)


#: Sent in one field at a time, the others valid: a field may only be read once the others
#: pass (a hostile ``next`` after a right password, a month once the site is known).
FIELD_BATTERY: tuple[str, ...] = (
    "/\n", "²", "١٢٣", str(INT64_MAX + 1), "-1", "1e3", "0001-01-01", "9999-12-31", "9999-99",
    "A" * 10_240,
)
