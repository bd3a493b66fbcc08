"""Log lines cannot be forged with newlines in user data (docs/security.md#log-lines)."""

from __future__ import annotations

import logging

from portal.log import SingleLineFormatter, escape_controls


def test_newlines_in_user_data_are_escaped():
    formatter = SingleLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("portal", logging.WARNING, __file__, 1,
                               "login failed for %s", ("bob\nINFO admin logged in\r",), None)
    line = formatter.format(record)
    assert "\n" not in line and "\r" not in line
    assert line == "WARNING login failed for bob\\x0aINFO admin logged in\\x0d"


def test_tracebacks_stay_readable_but_indented():
    formatter = SingleLineFormatter("%(message)s")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("portal", logging.ERROR, __file__, 1, "failed", (),
                                   sys.exc_info())
    lines = formatter.format(record).split("\n")
    assert lines[0] == "failed"
    assert all(line.startswith("    ") for line in lines[1:])


def test_escape_controls_leaves_ordinary_text():
    assert escape_controls("Émile Zoé – 12 h") == "Émile Zoé – 12 h"


def test_terminal_colours_are_dropped_not_escaped():
    assert escape_controls("\x1b[31m\x1b[1mWARNING\x1b[0m") == "WARNING"
    assert escape_controls("a\x1bb") == "a\\x1bb"
