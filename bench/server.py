"""What gunicorn serves during `make bench`: the portal, plus the framework's floor.

- ``/__floor__/<size>``: a bare Flask app (mounted with werkzeug's DispatcherMiddleware, no
  portal code on its path) rendering a Jinja template into a page of ``size`` bytes, the
  cost every page pays at least.
- every portal answer carries ``X-Bench-Queries``: the SQL statements the request ran, counted
  by a SQLAlchemy ``before_cursor_execute`` listener (bench only: the portal is not changed).

    gunicorn 'bench.server:build()'
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, render_template
from jinja2 import DictLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from portal import create_app

QUERIES_HEADER = "X-Bench-Queries"
FLOOR_PREFIX = "/__floor__"

_counter = threading.local()

FLOOR_TEMPLATE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ title }}</title></head>
<body><main>{% for line in lines %}<p>{{ line }}</p>
{% endfor %}</main></body></html>
"""


def _count(*_args: Any) -> None:
    _counter.value = getattr(_counter, "value", 0) + 1


def floor_app() -> Flask:
    """A bare Flask app: one view, one template, the requested size in bytes."""
    floor = Flask("floor")
    floor.jinja_loader = DictLoader({"floor.html": FLOOR_TEMPLATE})  # compiled once, cached

    @floor.route("/<int:size>")
    def page(size: int) -> str:
        empty = len(render_template("floor.html", title="Plancher", lines=[]))
        count, rest = divmod(max(size - empty, 0), 80)
        lines = ["x" * 72 for _ in range(count)]  # "<p>" + 72 + "</p>\n" = 80 bytes
        if rest > 8:
            lines.append("x" * (rest - 8))
        return render_template("floor.html", title="Plancher", lines=lines)

    return floor


class CountingMiddleware:
    """Puts the number of SQL statements of the request in a response header."""

    def __init__(self, wsgi: Callable[..., Iterable[bytes]]) -> None:
        self.wsgi = wsgi

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        _counter.value = 0

        def counted(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            headers.append((QUERIES_HEADER, str(_counter.value)))
            return start_response(status, headers, *rest)

        return self.wsgi(environ, counted)


def build() -> Any:
    """The WSGI application gunicorn serves: ``gunicorn 'bench.server:build()'``."""
    event.listen(Engine, "before_cursor_execute", _count)
    portal = create_app()
    return DispatcherMiddleware(CountingMiddleware(portal.wsgi_app),
                                {FLOOR_PREFIX: floor_app()})

