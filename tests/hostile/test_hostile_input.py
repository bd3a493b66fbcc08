"""Hostile input on every route, every method, as every role: never a 5xx, never an error
logged, a NUL byte is a 400, a refusal or a page changes nothing, a change is audited, and
the database's invariants hold after each request (docs/security.md#validation).

Routes come from ``app.url_map`` and the parameters each one reads are discovered (pages
crawled as each role, keys recorded as views read them, see ``discovery.py``): a new route
or a new field is swept without editing this file. ``HYPOTHESIS_PROFILE=long`` runs far more
examples; ``SWEEP_REPORT=failures.jsonl`` writes each minimal failure as one JSON line.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from flask import Flask, request

from portal import create_app
from tests.conftest import PG_URL, Factory, IsolatedClient, base_config, close_app
from tests.hostile import checks
from tests.hostile.discovery import PageParser, ReadLog, Registry
from tests.hostile.harness import Attempt, Route, Sweep, by_role, routes
from tests.hostile.scene import ROLES, build

#: Only to list the routes when tests are collected (no database is opened).
ROUTES = routes(create_app(base_config("sqlite://")))
CASES = [(route, role) for route in ROUTES for role in ROLES]


@pytest.fixture(scope="module")
def sweep(template_database: str, tmp_path_factory: pytest.TempPathFactory,
          password_hash: str) -> Iterator[Sweep]:
    workdir = tmp_path_factory.mktemp("sweep")
    if PG_URL:
        url = PG_URL
    else:
        shutil.copyfile(template_database, workdir / "portal.sqlite3")
        url = f"sqlite:///{workdir / 'portal.sqlite3'}"
    # Exceptions reach got_request_exception and the test instead of a polite 500 page.
    app = create_app({**base_config(url), "PROPAGATE_EXCEPTIONS": True})
    app.test_client_class = IsolatedClient
    context = app.app_context()
    context.push()
    swept = None
    try:
        swept = Sweep(app, build(app, Factory(password_hash)), workdir)
        swept.discover()
        yield swept
    finally:
        close_app(app, context)
        if swept is not None:
            swept.close()


@pytest.mark.parametrize(("route", "role"), CASES,
                         ids=[f"{route} as {role}" for route, role in CASES])
def test_hostile_input(sweep: Sweep, route: Route, role: str) -> None:
    sweep.run(route, role)


# --- the sweep reaches what it claims to ------------------------------------------------------


def test_every_route_is_reached_by_some_role(sweep: Sweep) -> None:
    """Each view runs for at least one role (else its parameters are never parsed)."""
    reached = set().union(*by_role(sweep.probes.items()).values())
    assert {route.endpoint for route in sweep.routes} - reached == set()


def test_each_audience_reaches_its_screens(sweep: Sweep) -> None:
    reached = by_role(sweep.probes.items())
    for role in ROLES:
        prefix = {"anonymous": "public.", "first_login": "auth.first_login",
                  "beneficiary_a": "me.", "beneficiary_b": "me."}.get(role, "staff.")
        mine = {route.endpoint for route in sweep.routes if route.endpoint.startswith(prefix)}
        assert mine <= reached.get(role, set()), (role, mine - reached.get(role, set()))


def test_the_scene_pages_open_as_every_role(sweep: Sweep) -> None:
    """Crawling and probing with real objects and the values pages offer: no error."""
    assert sweep.discovery_failures == []


def test_parameters_are_discovered(sweep: Sweep) -> None:
    """The crawl and the recorded reads find the parameters the screens are known to use."""
    expected = {
        "me.find": ("args", {"q", "site", "theme", "niveau", "semaine", "places"}),
        "auth.login": ("args", {"next", "fin"}),
        "auth.login#form": ("form", {"identifier", "password", "next"}),
        "public.set_language": ("form", {"lang", "next"}),
        "public.verify_form": ("args", {"code"}),
        "me.cancel": ("form", {"back"}),
        "me.book": ("form", {"liste_attente"}),
        "me.profile": ("form", {"phone", "has_no_phone", "email", "commune", "postcode",
                                "language"}),
        "staff.people_search": ("args", {"q"}),
        "staff.checkin_page": ("args", {"q", "b"}),
        "staff.scan": ("form", {"code", "q"}),
        "staff.mark": ("form", {"action"}),
        "staff.walk_in": ("form", {"person_id"}),
        "staff.take_cheques": ("form", {"numbers", "programme_id"}),
        "staff.book_for": ("form", {"session_id", "liste_attente"}),
        "staff.book_course_for": ("form", {"course_id"}),
        "staff.document_download": ("args", {"voir"}),
        "staff.document_revoke": ("form", {"reason"}),
        "staff.deposit_slip": ("form", {"site_id", "month"}),
        "staff.reopen": ("form", {"reason"}),
        "auth.keep_alive": ("form", {"next"}),
    }
    for key, (where, names) in expected.items():
        known = getattr(sweep.registry.by_endpoint[key.partition("#")[0]], where)
        assert names <= set(known), (key, names - set(known))
    assert "my-bookings" in sweep.registry.by_endpoint["me.cancel"].targets


def _route(sweep: Sweep, endpoint: str) -> Route:
    return next(route for route in sweep.routes if route.endpoint == endpoint)


def test_each_example_starts_from_the_scene(sweep: Sweep) -> None:
    """A change (a cancelled booking, a logout) is undone before the next example."""
    sweep.reset()
    cancel = _route(sweep, "me.cancel")
    booking = str(sweep.scene.ids["odile future"])
    with sweep.send(cancel, "beneficiary_a", Attempt({"booking_id": booking}, {})) as answer:
        assert answer.status_code == 303
    assert checks.state() != sweep.pristine.state
    with sweep.send(_route(sweep, "auth.logout"), "beneficiary_b", Attempt({}, {})) as answer:
        assert answer.status_code == 303
    sweep.dirty = True
    sweep.reset()
    assert checks.state() == sweep.pristine.state
    assert checks.audit_count() == sweep.pristine.audit
    assert not sweep.pristine.differs(checks.state())
    with sweep.send(_route(sweep, "me.home"), "beneficiary_b", Attempt({}, {})) as answer:
        assert answer.status_code == 200


def test_refusals_are_recognised(sweep: Sweep) -> None:
    """A refusal says so (status, flashed or shown message): then nothing may have changed."""
    sweep.reset()
    unknown_session = Attempt({"person_id": sweep.scene.pools["person_id"][0]}, {},
                              {"session_id": ["999999"]})
    with sweep.send(_route(sweep, "staff.book_for"), "reception_a", unknown_session) as answer:
        assert answer.status_code == 303
        assert checks.refusal(sweep.app, answer) == "an error message flashed"
    started = {"booking_id": str(sweep.scene.ids["odile today"])}
    mark = _route(sweep, "staff.mark")
    row = {"session_id": sweep.scene.pools["session_id"][0], **started}
    unknown_action = Attempt(row, {}, {"action": ["fly"]}, htmx=True, target="scan-result")
    with sweep.send(mark, "reception_a", unknown_action) as answer:
        assert answer.status_code == 200
        assert checks.refusal(sweep.app, answer) == "an error message shown"
    book = _route(sweep, "me.book")
    with sweep.send(book, "beneficiary_a", Attempt({"session_id": "999999"}, {})) as answer:
        assert checks.refusal(sweep.app, answer) == "status 404"
    future = {"booking_id": str(sweep.scene.ids["odile future"])}
    with sweep.send(_route(sweep, "me.cancel"), "beneficiary_a", Attempt(future, {})) as answer:
        assert answer.status_code == 303
        assert checks.refusal(sweep.app, answer) is None
    sweep.dirty = True


# --- the harness itself, on a small application of its own ------------------------------------


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
    @tiny.before_request
    def read_everything() -> None:
        """Like the portal's NUL check: reading every value is not reading a parameter."""
        assert all(isinstance(values, list) for values in request.values.listvalues())

    log = ReadLog(tiny)
    registry = Registry(tiny)
    client = tiny.test_client()
    registry.learn_page("/page", client.get("/page").get_data(as_text=True))
    client.get("/find?q=1&role=admin")
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
