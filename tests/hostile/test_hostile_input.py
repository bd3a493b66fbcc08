"""The hostile-input sweep's own machinery: discovering which parameters a route reads."""

from __future__ import annotations

import pytest
from flask import Flask, request

from tests.hostile.discovery import PageParser, ReadLog, Registry


@pytest.fixture
def tiny() -> Flask:
    app = Flask(__name__)

    @app.route("/find")
    def find() -> str:
        return f'{request.args.get("q")} {"secret" in request.args}'

    @app.route("/act", methods=["POST"])
    def act() -> str:
        return str(request.form.getlist("hidden"))

    @app.route("/page")
    def page() -> str:
        return ('<form action="/find"><input name="q" value="x"></form>'
                '<form method="post" action="/act"><select name="hidden">'
                '<option value="1">one</option><option value="2">two</option></select></form>')

    return app


def test_a_view_reading_an_unknown_parameter_is_caught(tiny: Flask) -> None:
    log = ReadLog(tiny)
    registry = Registry(tiny)
    client = tiny.test_client()
    registry.learn_page("/page", client.get("/page").get_data(as_text=True))
    client.get("/find?q=1")
    assert log.last.view_ran and log.last.endpoint == "find"
    assert registry.unknown(log.last) == {"args": {"secret"}}
    client.post("/act", data={"hidden": "1"})
    assert registry.unknown(log.last) == {}
    assert registry.by_endpoint["act"].form["hidden"] == ["1", "2"]


def test_pages_are_read_for_forms_buttons_links_and_htmx() -> None:
    page = PageParser("/here")
    page.feed('<form method="post" action="/a/1" data-hx-post="/a/1" data-hx-target="#zone"'
              ' data-hx-include="#search"><input type="hidden" name="csrf_token" value="t">'
              '<input type="password" name="secret">'
              '<button name="action" value="present">P</button>'
              '<input type="checkbox" name="places" value="1"><textarea name="reason">'
              '</textarea></form><input id="search" name="q" value="z">'
              '<a href="/b?x=1&amp;y=">b</a><input name="w" data-hx-get="/c" '
              'data-hx-target="#c"><body data-idle-logout-url="/d?fin=idle">')
    found = {(request.url, request.method, tuple(sorted(request.fields)), request.target)
             for request in page.found()}
    fields = (("action", "present"), ("csrf_token", "t"), ("places", "1"), ("q", "z"),
              ("reason", ""), ("secret", ""))
    assert ("/a/1", "POST", fields, None) in found
    assert ("/a/1", "POST", fields, "zone") in found
    assert ("/b?x=1&y=", "GET", (), None) in found
    assert ("/c", "GET", (("w", ""),), "c") in found
    assert ("/d?fin=idle", "GET", (), None) in found
    assert [request.passwords for request in page.found() if request.url == "/a/1"] == [
        {"secret"}, {"secret"}]
