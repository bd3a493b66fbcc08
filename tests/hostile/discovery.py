"""Which parameters each route reads, found rather than listed.

Two ways, both automatic:

- **Pages**: every page the scene shows each role is parsed for its forms (fields, buttons,
  select options, ``data-hx-include``d inputs), links and htmx attributes, and every
  redirect's ``Location``; each URL found is matched to its route, so the route learns the
  query keys and form fields a browser would send it, with the values the page offers.
- **Reads**: a test-only request class records every key a view (or a form it builds) looks
  up in ``request.args`` and ``request.form``.

A route that reads a key neither way found is a failure of the sweep (:class:`UnknownParameter`):
make the parameter appear on a page, or add it to ``EXPLICIT``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from flask import Flask, Request, g, request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

#: Values by endpoint, place ("args" or "form") and key, in the order to try them.
Values = dict[str, dict[str, dict[str, list[str]]]]

#: Parameters no page shows and no probe reads, by endpoint: kept as small as possible (the
#: scene adds the values no page can show, such as passwords: ``scene.Scene.secrets``).
EXPLICIT: Values = {
    # The extra seat of a full session is offered, then confirmed, in the answers of a scan
    # and of a walk-in on that session (POST answers, which the crawl of pages never sees).
    "staff.walk_in": {"form": {"extra_seat": ["1"], "confirmed": ["1"]}},
    # A series is confirmed (or taken back to its form) from its preview, a POST answer; a
    # closure is removed from the list of a site's closures, empty in the scene.
    "staff.session_new": {"form": {"confirm": ["1", "edit"]}},
    "staff.closure_days": {"form": {"remove": ["1"]}},
}


class UnknownParameter(AssertionError):
    """A route read a parameter that the sweep neither discovered nor lists."""


# --- recording what views read ------------------------------------------------------------


class _RecordingDict(ImmutableMultiDict):  # type: ignore[type-arg]
    """Request parameters that note every key looked up (not iteration, which reads all)."""

    reads: set[str]

    def _note(self, key: Any) -> None:
        if isinstance(key, str):
            self.reads.add(key)

    def __getitem__(self, key: Any) -> Any:
        self._note(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._note(key)
        return super().__contains__(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:
        self._note(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> list[Any]:
        self._note(key)
        return super().getlist(key, type)


def _recording(values: ImmutableMultiDict, reads: set[str]) -> _RecordingDict:  # type: ignore[type-arg]
    recorded = _RecordingDict(values.items(multi=True))
    recorded.reads = reads
    return recorded


class RecordingRequest(Request):
    """``request.args`` and ``request.form`` that record the keys a view reads."""

    @property
    def args(self) -> Any:  # type: ignore[override]
        return self._recorded("args", Request.args.__get__(self))  # type: ignore[attr-defined]

    @property
    def form(self) -> Any:  # type: ignore[override]
        return self._recorded("form", Request.form.__get__(self))  # type: ignore[attr-defined]

    def _recorded(self, place: str, parsed: ImmutableMultiDict) -> _RecordingDict:  # type: ignore[type-arg]
        """The parameters werkzeug parsed (and cached), wrapped once."""
        if f"_sweep_{place}" not in self.__dict__:
            self.__dict__[f"_sweep_{place}"] = _recording(parsed, self.sweep_reads[place])
        return self.__dict__[f"_sweep_{place}"]

    @property
    def sweep_reads(self) -> dict[str, set[str]]:
        return self.__dict__.setdefault("_sweep_reads", {"args": set(), "form": set()})


@dataclass
class Reads:
    """What one request read, and whether its view ran at all (guards answer before it)."""

    endpoint: str | None = None
    args: set[str] = field(default_factory=set)
    form: set[str] = field(default_factory=set)
    view_ran: bool = False


class ReadLog:
    """Installed on the sweep's application: the reads of the last request."""

    def __init__(self, app: Flask) -> None:
        self.last = Reads()
        app.request_class = RecordingRequest
        app.before_request_funcs.setdefault(None, []).insert(0, self._start)
        app.teardown_request(self._finish)
        for endpoint, view in list(app.view_functions.items()):
            app.view_functions[endpoint] = self._observed(view)

    def _start(self) -> None:
        self.last = Reads()

    @staticmethod
    def _observed(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def observed(*args: Any, **kwargs: Any) -> Any:
            g.sweep_view_ran = True
            return view(*args, **kwargs)

        return observed

    def _finish(self, _error: BaseException | None) -> None:
        reads = request.sweep_reads if isinstance(request, RecordingRequest) else {}
        self.last = Reads(request.endpoint, set(reads.get("args", ())),
                          set(reads.get("form", ())), bool(g.get("sweep_view_ran")))


# --- what is known of each route ----------------------------------------------------------


@dataclass
class Parameters:
    """The query keys and form fields of one endpoint, each with the values pages offer."""

    args: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    form: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    #: ids of the elements htmx swaps with this endpoint's answers (the ``HX-Target`` header).
    targets: set[str] = field(default_factory=set)
    #: password fields: each request then costs an argon2id verification or hash.
    passwords: set[str] = field(default_factory=set)

    def add(self, where: str, key: str, value: str | None = None) -> None:
        values = getattr(self, where)[key]
        if value is not None and value not in values:
            values.append(value)


class Registry:
    """Every endpoint's parameters, as pages and reads revealed them."""

    def __init__(self, app: Flask, known: Values | None = None) -> None:
        self.app = app
        self.adapter = app.url_map.bind("localhost")
        self.by_endpoint: dict[str, Parameters] = defaultdict(Parameters)
        for given in (EXPLICIT, known or {}):
            for endpoint, places in given.items():
                for where, keys in places.items():
                    for key, values in keys.items():
                        self.by_endpoint[endpoint].add(where, key)
                        for value in values:
                            self.by_endpoint[endpoint].add(where, key, value)

    def endpoint_of(self, url: str, method: str) -> str | None:
        parts = urlsplit(url)
        if parts.scheme not in ("", "http", "https") or parts.netloc not in ("", "localhost"):
            return None
        try:
            endpoint, _args = self.adapter.match(parts.path or "/", method=method)
        except (HTTPException, RequestRedirect):
            return None
        return str(endpoint)

    def learn_url(self, url: str, method: str = "GET",
                  fields: Iterable[tuple[str, str]] = (), target: str | None = None,
                  passwords: Iterable[str] = ()) -> None:
        """A URL met on a page (link, form action, htmx attribute, redirect)."""
        endpoint = self.endpoint_of(url, method)
        if endpoint is None:
            return
        known = self.by_endpoint[endpoint]
        for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
            known.add("args", key, value)
        where = "form" if method == "POST" else "args"
        for key, value in fields:
            known.add(where, key, value)
        if target:
            known.targets.add(target)
        known.passwords.update(passwords)

    def learn_page(self, url: str, html: str) -> None:
        page = PageParser(url)
        page.feed(html)
        page.close()
        for found in page.found():
            self.learn_url(found.url, found.method, found.fields, found.target,
                           found.passwords)

    def learn_reads(self, reads: Reads) -> None:
        if reads.endpoint is None:
            return
        known = self.by_endpoint[reads.endpoint]
        for key in reads.args:
            known.add("args", key)
        for key in reads.form:
            known.add("form", key)

    def unknown(self, reads: Reads) -> dict[str, set[str]]:
        """The keys a request read that the sweep does not know (and so never sends)."""
        if reads.endpoint is None:
            return {}
        known = self.by_endpoint.get(reads.endpoint, Parameters())
        missing = {"args": reads.args - set(known.args), "form": reads.form - set(known.form)}
        return {where: keys for where, keys in missing.items() if keys}


# --- reading pages ------------------------------------------------------------------------


@dataclass
class Found:
    """A request a page can make: its URL, method, fields and where htmx puts the answer."""

    url: str
    method: str = "GET"
    fields: list[tuple[str, str]] = field(default_factory=list)
    target: str | None = None
    passwords: set[str] = field(default_factory=set)


@dataclass
class _Form:
    action: str
    method: str
    hx_post: str | None
    hx_get: str | None
    target: str | None
    include: str | None
    fields: list[tuple[str, str]] = field(default_factory=list)
    passwords: set[str] = field(default_factory=set)
    select: str | None = None


class PageParser(HTMLParser):
    """The forms, links and htmx attributes of a page, as the requests they make."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[_Form] = []
        self.open_forms: list[_Form] = []
        self.named_ids: dict[str, tuple[str, str]] = {}
        self.urls: list[Found] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        target = (a.get("data-hx-target") or "").removeprefix("#") or None
        if tag == "form":
            form = _Form(a.get("action") or self.url, (a.get("method") or "get").upper(),
                         a.get("data-hx-post"), a.get("data-hx-get"), target,
                         (a.get("data-hx-include") or "").removeprefix("#") or None)
            self.forms.append(form)
            self.open_forms.append(form)
            return
        form = self.open_forms[-1] if self.open_forms else None
        name = a.get("name")
        if name and a.get("id"):
            self.named_ids[a["id"]] = (name, a.get("value", ""))
        if form is not None and name:
            self._field(form, tag, name, a)
        if tag == "option" and form is not None and form.select:
            form.fields.append((form.select, a.get("value", "")))
        # Links and htmx requests outside forms (an element with a name sends its value).
        for attribute in ("href", "data-hx-get", "data-hx-post"):
            if a.get(attribute):
                method = "POST" if attribute == "data-hx-post" else "GET"
                fields = [(name, a.get("value", ""))] if name and attribute != "href" else []
                self.urls.append(Found(a[attribute], method, fields,
                                       target if attribute != "href" else None))
        for attribute, value in a.items():
            if attribute.endswith("-url") and value.startswith("/"):
                self.urls.append(Found(value))

    def _field(self, form: _Form, tag: str, name: str, a: dict[str, str]) -> None:
        kind = a.get("type", "text").lower()
        if tag == "select":
            form.select = name
        elif tag == "textarea":
            form.fields.append((name, ""))
        elif tag == "input" and kind in ("checkbox", "radio"):
            form.fields.append((name, a.get("value", "on")))
        elif tag in ("input", "button"):
            form.fields.append((name, a.get("value", "")))
            if kind == "password":
                form.passwords.add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.open_forms:
            self.open_forms.pop()
        elif tag == "select" and self.open_forms:
            self.open_forms[-1].select = None

    def found(self) -> list[Found]:
        found = list(self.urls)
        for form in self.forms:
            fields = list(form.fields)
            if form.include and form.include in self.named_ids:
                fields.append(self.named_ids[form.include])
            found.append(Found(form.action, form.method, fields, None, form.passwords))
            for url, method in ((form.hx_post, "POST"), (form.hx_get, "GET")):
                if url:
                    found.append(Found(url, method, fields, form.target, form.passwords))
        return found
