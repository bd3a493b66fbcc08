"""Application logging: one event per line, whatever the data (docs/security.md#log-lines).

User-supplied text (identifiers, paths, user agents) can hold CR/LF or other control
characters; they are escaped so nobody can forge an extra log line.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
_COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # terminal colours (werkzeug's banner): dropped


def escape_controls(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", _COLOUR.sub("", text))


class SingleLineFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = escape_controls(record.getMessage())
        saved = record.msg, record.args, record.exc_text
        record.msg, record.args = message, ()
        try:
            line = super().format(record)
        finally:
            record.msg, record.args, record.exc_text = saved
        # Tracebacks are ours, not the user's: keep them, indented under the line.
        head, _, tail = line.partition("\n")
        return head if not tail else head + "\n    " + tail.replace("\n", "\n    ")


FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def init_app(app: Flask) -> None:
    formatter = SingleLineFormatter(FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(logging.INFO)
    for name in ("portal", "werkzeug"):
        logger = logging.getLogger(name)
        if not any(isinstance(h.formatter, SingleLineFormatter) for h in logger.handlers):
            logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
