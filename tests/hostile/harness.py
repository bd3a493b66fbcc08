"""The sweep: one application, one scene, every role logged in once; then, for each route,
method and role, hypothesis sends hostile requests and checks each answer.

Every example starts from the same database (restored when the previous one changed it),
the same cookie and fresh rate-limit counters, on a frozen clock: a failure replays.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import traceback
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.control import current_build_context
from sqlalchemy import select, text
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from portal.extensions import db, limiter
from portal.models import StaffMember
from tests.conftest import PASSWORD, csrf_from
from tests.hostile import checks, values
from tests.hostile.discovery import Parameters, ReadLog, Registry, UnknownParameter
from tests.hostile.scene import ROLES, Scene

CSRF_FIELD = "csrf_token"

# --- settings -------------------------------------------------------------------------------

_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                              HealthCheck.large_base_example, HealthCheck.filter_too_much],
    # No "explain" phase: it replays a failure many times over to comment the example.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
    "report_multiple_bugs": True,
}
settings.register_profile("sweep-ci", max_examples=12, derandomize=True, database=None,
                          print_blob=False, **_COMMON)
settings.register_profile("sweep-long", max_examples=150, **_COMMON)

#: ``HYPOTHESIS_PROFILE=long`` for a longer local run (random, with the example database).
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
if PROFILE not in ("ci", "long"):
    raise RuntimeError(f"HYPOTHESIS_PROFILE={PROFILE!r}: the sweep knows 'ci' and 'long'")

#: ``SWEEP_REPORT=file.jsonl``: append each minimal failure (route, role, values, traceback).
REPORT = os.environ.get("SWEEP_REPORT")


def budget(*, view_ran: bool, costly: bool) -> int:
    """Examples for one route × method × role: fewer when a guard answers before the view
    (nothing is parsed), or when answers are costly (a PDF rendered, an argon2id password
    checked: a fifth of a second each)."""
    base = settings.get_profile(f"sweep-{PROFILE}").max_examples
    if not view_ran:
        return max(2, base // 6)
    return max(4, base // 3) if costly else base


# --- routes ---------------------------------------------------------------------------------

_ARGUMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    method: str

    @property
    def converters(self) -> dict[str, str]:
        return {name: kind or "default" for kind, name in _ARGUMENT.findall(self.rule)}

    def path(self, segments: dict[str, str]) -> str:
        return _ARGUMENT.sub(lambda match: segments[match.group(2)], self.rule)

    def __str__(self) -> str:
        return f"{self.method} {self.rule}"


def routes(app: Flask) -> list[Route]:
    """Every route and method the application answers (HEAD and OPTIONS are Flask's)."""
    return sorted((Route(rule.rule, rule.endpoint, method)
                   for rule in app.url_map.iter_rules()
                   for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})),
                  key=lambda route: (route.rule, route.method))


# --- one request ----------------------------------------------------------------------------


def _short(value: str) -> str:
    return repr(value) if len(value) <= 40 else f"{value[:16]!r}…({len(value)} chars)"


@dataclass
class Attempt:
    """One request as hypothesis drew it."""

    path: dict[str, str]
    args: dict[str, list[str]]
    form: dict[str, list[str]] = field(default_factory=dict)
    htmx: bool = False
    target: str | None = None
    multipart: bool = False

    def __repr__(self) -> str:
        def fields(items: dict[str, list[str]]) -> str:
            return "{" + ", ".join(f"{k!r}: [{', '.join(map(_short, v))}]"
                                   for k, v in items.items()) + "}"

        return (f"Attempt(path={self.path!r}, args={fields(self.args)}, "
                f"form={fields(self.form)}, htmx={self.htmx}, target={self.target!r}, "
                f"multipart={self.multipart})")

    def sends_nul(self) -> bool:
        """A NUL byte in the path (``%00`` once decoded), in a key or in a value."""
        in_path = any(values.NUL in v or "%00" in v for v in self.path.values())
        sent = [*self.args.items(), *self.form.items()]
        return in_path or any(values.NUL in key or any(values.NUL in v for v in vs)
                              for key, vs in sent)


def _present(drawn: dict[str, list[str] | None]) -> dict[str, list[str]]:
    return {key: value for key, value in drawn.items() if value is not None}


@dataclass
class Login:
    cookie: str | None
    csrf: str


class Failure(AssertionError):
    """A check of the sweep failed; the subclass says which (hypothesis reports each)."""

    status: int | None = None


class ServerError(Failure):
    pass


class LoggedError(Failure):
    pass


class NulAccepted(Failure):
    pass


class HalfWritten(Failure):
    pass


class Unaudited(Failure):
    pass


class InvariantBroken(Failure):
    pass


# --- the database as the scene left it ---------------------------------------------------


def _copy_sqlite(source: str | Path, target: str | Path) -> None:
    """SQLite's online backup: consistent, and safe while the pool keeps idle connections."""
    origin, destination = sqlite3.connect(source), sqlite3.connect(target)
    try:
        origin.backup(destination)
    finally:
        destination.close()
        origin.close()


class Pristine:
    """The scene's database, put back whenever an example changed it."""

    def __init__(self, app: Flask, workdir: Path) -> None:
        self.app = app
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        self.sqlite_file = url.removeprefix("sqlite:///") if url.startswith("sqlite:") else None
        self.copy = workdir / "pristine.sqlite3"
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.capture()

    def capture(self) -> None:
        db.session.remove()
        if self.sqlite_file:
            _copy_sqlite(self.sqlite_file, self.copy)
        else:
            with db.engine.connect() as connection:
                self.rows = {table.name: [dict(row._mapping) for row in
                                          connection.execute(select(table))]
                             for table in checks.tables()}
        self.state = checks.state()
        self.logins = checks.state(including=("login_session",))["login_session"]
        self.audit = checks.audit_count()
        broken = checks.broken_invariants()
        assert not broken, f"the scene itself breaks invariants: {broken}"

    def differs(self, after: checks.Rows) -> bool:
        return (after != self.state
                or checks.state(including=("login_session",))["login_session"] != self.logins
                or checks.audit_count() != self.audit)

    def restore(self) -> None:
        db.session.remove()
        if self.sqlite_file:
            _copy_sqlite(self.copy, self.sqlite_file)
            return
        names = ", ".join(f'"{table.name}"' for table in checks.tables())
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            for table in checks.tables():
                if self.rows[table.name]:
                    connection.execute(table.insert(), self.rows[table.name])
            for table in checks.tables():
                if "id" in table.c:
                    name = f'"{table.name}"'  # our own table names, nothing typed
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "  # noqa: S608
                        f"coalesce(max(id), 0) + 1, false) FROM {name}"))

    def remove(self) -> None:
        if self.copy.exists():
            self.copy.unlink()


# --- the sweep ------------------------------------------------------------------------------


@dataclass
class Probe:
    view_ran: bool
    pdf: bool
    status: int | None
    #: how many parameters the view read: the role that reads most goes deepest.
    reads: int = 0


class Sweep:
    """The application under test, its scene, what discovery found, and the checks."""

    def __init__(self, app: Flask, scene: Scene, workdir: Path) -> None:
        self.app = app
        self.scene = scene
        self.read_log = ReadLog(app)
        self.registry = Registry(app, scene.secrets)
        self.errors = checks.Errors()
        self.routes = routes(app)
        self.logins: dict[str, Login] = {}
        self.probes: dict[tuple[Route, str], Probe] = {}
        #: the role that goes deepest into each route: the battery is sent as that role.
        self.battery_role: dict[Route, str] = {}
        #: the (argument, value) pairs each role's pages open (status below 400).
        self.reachable: dict[str, set[tuple[str, str]]] = {role: set() for role in ROLES}
        #: what went wrong while discovering (the cases replay it with the same request).
        self.discovery_failures: list[str] = []
        self.dirty = False
        self.workdir = workdir
        for role in ROLES:
            self.logins[role] = self._login(role)
        self.pristine = Pristine(app, workdir)
        self.writes = checks.Writes(app.config["SQLALCHEMY_DATABASE_URI"])

    # --- logging in -------------------------------------------------------------------------

    def _login(self, role: str) -> Login:
        client = self.app.test_client()
        principal = self.scene.principals.get(role)
        if principal is None:
            page = client.get("/connexion")
        else:
            identifier = (principal.email if isinstance(principal, StaffMember)
                          else principal.login_id)
            password = self.scene.card_code if role == "first_login" else PASSWORD
            token = csrf_from(client.get("/connexion").get_data(as_text=True))
            answer = client.post("/connexion", data={
                "identifier": identifier, "password": password, CSRF_FIELD: token})
            assert answer.status_code == 303, (role, answer.status_code)
            page = client.get(answer.headers["Location"])
        assert page.status_code == 200, (role, page.status_code)
        cookie = client.get_cookie(self.app.config["SESSION_COOKIE_NAME"])
        return Login(cookie.value if cookie else None, csrf_from(page.get_data(as_text=True)))

    # --- sending ----------------------------------------------------------------------------

    def send(self, route: Route, role: str, attempt: Attempt) -> TestResponse:
        client = self.app.test_client()
        login = self.logins[role]
        if login.cookie:
            client.set_cookie(self.app.config["SESSION_COOKIE_NAME"], login.cookie)
        headers: dict[str, str] = {}
        if attempt.htmx:
            headers["HX-Request"] = "true"
            if attempt.target:
                headers["HX-Target"] = attempt.target
            if route.method == "POST":
                headers["X-CSRFToken"] = login.csrf
        data = None
        if route.method == "POST":
            data = MultiDict([(key, value) for key, values_ in attempt.form.items()
                              for value in values_])
            data.setlist(CSRF_FIELD, [login.csrf])
        query = MultiDict([(key, value) for key, values_ in attempt.args.items()
                           for value in values_])
        return client.open(route.path(attempt.path), method=route.method, query_string=query,
                           data=data, headers=headers,
                           content_type="multipart/form-data" if attempt.multipart else None)

    def reset(self) -> None:
        """The state every example starts from."""
        if self.dirty:
            self.pristine.restore()
            self.dirty = False
        limiter.reset()
        self.app.extensions["login_throttle_strategy"].storage.reset()
        self.errors.clear()

    # --- discovering ------------------------------------------------------------------------

    def discover(self) -> None:
        """Crawl every page as every role, then probe every route with what pages offer."""
        with self.errors.watching(self.app):
            for role in ROLES:
                for route in self.routes:
                    if route.method == "GET":
                        self._crawl(route, role)
            for route in self.routes:
                for role in ROLES:
                    self.probes[route, role] = self._probe(route, role)
        for route in self.routes:
            reaching = [role for role in ROLES if self.probes[route, role].view_ran]
            if reaching:
                self.battery_role[route] = min(reaching, key=lambda role: (
                    (self.probes[route, role].status or 500) >= 400,
                    -self.probes[route, role].reads, ROLES.index(role)))

    def _real_paths(self, route: Route, role: str | None = None) -> list[dict[str, str]]:
        """Paths to the scene's objects; with a role, those its pages open come first."""
        names = list(route.converters)
        if not names:
            return [{}]
        if {"session_id", "booking_id"} <= set(names):
            paths = [{"session_id": s, "booking_id": b} for s, b in self.scene.pairs]
        else:
            pools = [self._pool(route, name) for name in names]
            longest = max(len(pool) for pool in pools)
            paths = [{name: self._segment(route, name, pool[i % len(pool)])
                      for name, pool in zip(names, pools, strict=True)} for i in range(longest)]
        if role is None:
            return paths
        return sorted(paths, key=lambda path: not all(
            (name, value) in self.reachable[role] for name, value in path.items()))

    def _pool(self, route: Route, name: str) -> list[str]:
        pool = self.scene.pools.get(name)
        if not pool:
            raise LookupError(f"{route} takes <{name}>, for which the scene has no objects: "
                              "add some to tests/hostile/scene.py (_pools)")
        return pool

    @staticmethod
    def _segment(route: Route, name: str, value: str) -> str:
        kind = route.converters[name]
        return value if kind == "int" else quote(value, safe="/" if kind == "path" else "")

    def _crawl(self, route: Route, role: str) -> None:
        for path in self._real_paths(route):
            self.reset()
            mark = self.writes.mark()
            response = self._quietly(route, role, Attempt(path, {}))
            # A page that writes is the case's failure; the crawl goes on from the scene.
            self.dirty = self.writes.mark() != mark and self.pristine.differs(checks.state())
            if response is None:
                continue
            with response:
                if not self.read_log.last.view_ran:
                    return  # a guard answers for every object alike
                if response.status_code < 400:
                    self.reachable[role].update(path.items())
                self._learn(route, response)

    def _probe(self, route: Route, role: str) -> Probe:
        attempt = self.probe_attempt(route, role)
        self.reset()
        mark = self.writes.mark()
        self.dirty = True
        response = self._quietly(route, role, attempt)
        self.dirty = self.writes.mark() != mark and self.pristine.differs(checks.state())
        reads = self.read_log.last
        if response is None:
            return Probe(reads.view_ran, False, None)
        with response:
            self._learn(route, response)
            return Probe(reads.view_ran, response.mimetype == "application/pdf",
                         response.status_code, len(reads.args) + len(reads.form))

    def _quietly(self, route: Route, role: str, attempt: Attempt) -> TestResponse | None:
        try:
            response = self.send(route, role, attempt)
        except Exception as error:  # the case of this route and role fails on it with details
            self.discovery_failures.append(f"{route} as {role} {attempt!r}: "
                                           f"{type(error).__name__}: {error}")
            return None
        if response.status_code >= 500:
            self.discovery_failures.append(f"{route} as {role} {attempt!r}: "
                                           f"status {response.status_code}")
        self.registry.learn_reads(self.read_log.last)
        return response

    def _learn(self, route: Route, response: TestResponse) -> None:
        for header in ("Location", "HX-Redirect"):
            if response.headers.get(header):
                self.registry.learn_url(response.headers[header])
        if response.mimetype == "text/html" and response.status_code != 304:
            self.registry.learn_page(response.request.path, response.get_data(as_text=True))

    def known(self, route: Route) -> Parameters:
        return self.registry.by_endpoint.get(route.endpoint) or Parameters()

    def probe_attempt(self, route: Route, role: str) -> Attempt:
        """The request the role's browser would send: an object its pages open, the first
        value a page offers for each parameter."""
        known = self.known(route)

        def first(params: dict[str, list[str]]) -> dict[str, list[str]]:
            return {key: [next((v for v in vals if v), vals[0])]
                    for key, vals in sorted(params.items()) if vals and key != CSRF_FIELD}

        return Attempt(self._real_paths(route, role)[0], first(known.args),
                       first(known.form) if route.method == "POST" else {})

    # --- drawing ----------------------------------------------------------------------------

    def path_strategy(self, route: Route, role: str) -> st.SearchStrategy[dict[str, str]]:
        parts: dict[str, st.SearchStrategy[str]] = {}
        for name, kind in route.converters.items():
            pool = sorted((self._segment(route, name, value)
                           for value in self._pool(route, name)),
                          key=lambda value, n=name: (n, value) not in self.reachable[role])
            if kind == "int":
                parts[name] = st.one_of(st.sampled_from(pool), st.sampled_from(values.RAW_IDS))
            else:
                safe = "/" if kind == "path" else ""
                parts[name] = st.one_of(st.sampled_from(pool),
                                        values.path_text().map(lambda v, s=safe: quote(v, safe=s)))
        drawn = st.fixed_dictionaries(parts)
        if {"session_id", "booking_id"} <= set(parts):
            drawn = st.one_of(st.sampled_from(self._real_paths(route, role)), drawn)
        return drawn

    def attempts(self, route: Route, role: str) -> st.SearchStrategy[Attempt]:
        known = self.known(route)

        def fields(params: dict[str, list[str]]) -> st.SearchStrategy[dict[str, list[str]]]:
            expected = st.fixed_dictionaries({key: values.field(list(vals))
                                              for key, vals in sorted(params.items())
                                              if key != CSRF_FIELD}).map(_present)
            return st.builds(lambda more, known: {**more, **known}, values.extra(), expected)

        posting = route.method == "POST"
        return st.builds(
            Attempt, path=self.path_strategy(route, role),
            args=fields(known.args) if not posting else
            st.fixed_dictionaries({key: values.field(list(vals))
                                   for key, vals in sorted(known.args.items())}).map(_present),
            form=fields(known.form) if posting else st.just({}), htmx=st.booleans(),
            target=st.sampled_from([None, *sorted(known.targets)]),
            multipart=st.booleans() if posting else st.just(False))

    # --- checking ---------------------------------------------------------------------------

    def run(self, route: Route, role: str) -> None:
        """The battery, then random examples; every distinct failure is raised, together."""
        failures = self.battery(route, role)
        try:
            self.examples(route, role)
        except Exception as error:
            failures.append(error)
        if len(failures) == 1:
            raise failures[0]
        if failures:
            raise ExceptionGroup(f"{route} as {role}: {len(failures)} failures", failures)

    def examples(self, route: Route, role: str) -> None:
        probe = self.probes[route, role]
        profile = settings.get_profile(f"sweep-{PROFILE}")

        @settings(profile, max_examples=budget(view_ran=probe.view_ran,
                                               costly=self.costly(route, role)))
        @given(attempt=self.attempts(route, role))
        def hostile_request(attempt: Attempt) -> None:
            try:
                self.check(route, role, attempt)
            except Exception as error:
                if current_build_context().is_final:
                    self._report(route, role, attempt, error)
                raise

        if PROFILE == "ci":  # reproducible, and different for each route and role
            hostile_request = seed(zlib.crc32(f"{route} {role}".encode()))(hostile_request)
        with self.errors.watching(self.app):
            hostile_request()

    def costly(self, route: Route, role: str) -> bool:
        return self.probes[route, role].pdf or bool(self.known(route).passwords)

    def battery(self, route: Route, role: str) -> list[Exception]:
        """As the role that goes deepest into the route: each value of ``values.BATTERY`` in
        every field (and text path argument) at once, a failure narrowed to the one field
        that causes it. Then, as every role the view runs for (only the deepest one when
        answers are costly): each of ``values.FIELD_BATTERY`` in one field at a time, the
        others valid."""
        base = self.probe_attempt(route, role)
        known = self.known(route)
        posting = route.method == "POST"
        places = [("path", name) for name, kind in route.converters.items() if kind != "int"]
        places += [("args", key) for key in sorted(known.args)]
        places += [("form", key) for key in sorted(known.form) if posting and key != CSRF_FIELD]
        costly = self.costly(route, role)
        deepest = self.battery_role.get(route) == role
        if not places or not self.probes[route, role].view_ran or (costly and not deepest):
            return []
        everywhere = () if not deepest else values.FIELD_BATTERY if costly else values.BATTERY
        found: dict[tuple[str, ...], Exception] = {}

        def keep(attempt: Attempt, error: Exception | None, value: str, *,
                 alone: tuple[str, str] | None) -> None:
            if error is None or _signature(error) in found:
                return
            if alone is None:
                attempt, error, alone = self._narrow(route, role, base, places, value,
                                                     attempt.htmx, error)
            if alone is not None:
                error.add_note(f"battery: {alone[0]} {alone[1]!r} = {_short(value)}, "
                               "everything else as the role's pages offer it")
            found[_signature(error)] = error
            self._report(route, role, attempt, error)

        with self.errors.watching(self.app):
            for value in everywhere:
                for htmx in (False, True) if posting and not costly else (False,):
                    attempt = self._with(base, places, value, htmx)
                    keep(attempt, self._attempt(route, role, attempt), value,
                         alone=places[0] if len(places) == 1 else None)
            for place in places if len(places) > 1 or not deepest else []:
                for value in values.FIELD_BATTERY:
                    attempt = self._with(base, [place], value, htmx=False)
                    keep(attempt, self._attempt(route, role, attempt), value, alone=place)
        return list(found.values())

    def _with(self, base: Attempt, places: list[tuple[str, str]], value: str,
              htmx: bool) -> Attempt:
        attempt = Attempt(dict(base.path), dict(base.args), dict(base.form), htmx=htmx)
        for where, key in places:
            if where == "path":
                attempt.path[key] = quote(value, safe="")
            else:
                getattr(attempt, where)[key] = [value]
        return attempt

    def _narrow(self, route: Route, role: str, base: Attempt, places: list[tuple[str, str]],
                value: str, htmx: bool, error: Exception,
                ) -> tuple[Attempt, Exception, tuple[str, str] | None]:
        """The one place where ``value`` alone fails the same way, if there is one."""
        for place in places:
            alone = self._with(base, [place], value, htmx)
            again = self._attempt(route, role, alone)
            if again is not None and _signature(again) == _signature(error):
                return alone, again, place
        return self._with(base, places, value, htmx), error, None

    def _attempt(self, route: Route, role: str, attempt: Attempt) -> Exception | None:
        try:
            self.check(route, role, attempt)
        except Exception as error:
            return error
        return None

    def check(self, route: Route, role: str, attempt: Attempt) -> None:
        self.reset()
        mark = self.writes.mark()
        self.dirty = True
        where = f"{route} as {role}: {route.path(attempt.path)} {attempt!r}"
        try:
            response = self.send(route, role, attempt)
        except Exception as error:
            error.add_note(f"sweep: {where}")
            raise
        with response:
            written = self.writes.mark() != mark
            after = checks.state() if written else self.pristine.state
            self.dirty = written and self.pristine.differs(after)
            failure = self._failure(route, attempt, response, after if written else None)
        if failure is not None:
            failure.status = response.status_code
            failure.add_note(f"sweep: {where} -> {response.status_code}")
            raise failure

    def _failure(self, route: Route, attempt: Attempt, response: TestResponse,
                 after: checks.Rows | None) -> Failure | None:
        """The first check the answer fails; ``after`` is None when nothing was written."""
        status = response.status_code
        if status >= 500 or self.errors.raised:
            return ServerError(f"status {status}, raised {self.errors.raised!r}")
        logged = self.errors.logged_errors()
        if logged:
            return LoggedError("errors logged while answering: " + "; ".join(logged))
        if attempt.sends_nul() and status != 400:
            return NulAccepted(f"a NUL byte was answered {status}, not 400")
        unknown = self.registry.unknown(self.read_log.last)
        if unknown:
            return UnknownParameter(
                f"{route.endpoint} read {unknown}, which no page of the scene shows and the "
                "probes did not read: make it discoverable or add it to discovery.EXPLICIT")
        if after is None:
            return None
        broken = checks.broken_invariants()
        if broken:
            return InvariantBroken("; ".join(broken))
        refused = checks.refusal(self.app, response)
        if after != self.pristine.state:
            changes = checks.diff(self.pristine.state, after)
            if route.method == "GET":
                return HalfWritten(f"a GET changed the database:\n{changes}")
            if refused:
                return HalfWritten(f"refused ({refused}) but the database changed:\n{changes}")
            if checks.audit_count() == self.pristine.audit:
                return Unaudited(f"the database changed without an audit event:\n{changes}")
        return None

    def _report(self, route: Route, role: str, attempt: Attempt, error: BaseException) -> None:
        """One JSON line per minimal failure, for whoever fixes them (``SWEEP_REPORT``)."""
        if not REPORT:
            return
        frames = traceback.extract_tb(error.__traceback__)
        ours = [f for f in frames if "/portal/" in f.filename]
        shown = [*ours[-3:], *([frames[-1]] if frames and frames[-1] not in ours else [])]
        entry = {
            "route": route.rule, "method": route.method, "endpoint": route.endpoint,
            "role": role, "path": route.path(attempt.path), "args": attempt.args,
            "form": attempt.form, "htmx": attempt.htmx, "target": attempt.target,
            "multipart": attempt.multipart, "status": getattr(error, "status", None),
            "error": f"{type(error).__name__}: {error}"[:3000],
            "frames": [f"{f.filename.split('/site-packages/')[-1].split('/sweep/')[-1]}"
                       f":{f.lineno} {f.name}: {f.line}" for f in shown],
        }
        with open(REPORT, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def close(self) -> None:
        self.writes.close()
        self.pristine.remove()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _signature(error: BaseException) -> tuple[str, ...]:
    """The same failure: a check of the sweep by its kind, an exception by where it rose."""
    if isinstance(error, Failure):
        return (type(error).__name__,)
    frames = traceback.extract_tb(error.__traceback__)
    last = frames[-1] if frames else None
    return (type(error).__name__, last.filename if last else "", str(last.lineno if last else 0))


def by_role(probes: Iterable[tuple[tuple[Route, str], Probe]]) -> dict[str, set[str]]:
    """The endpoints whose view ran for each role during the probes."""
    reached: dict[str, set[str]] = {}
    for (route, role), probe in probes:
        if probe.view_ran:
            reached.setdefault(role, set()).add(route.endpoint)
    return reached
