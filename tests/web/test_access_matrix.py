"""Every route of the portal, asked by every kind of person, answers as the access matrix says,
and every answer carries the security headers (docs/security.md#access-matrix).

The matrix (``tests/web/access_table.py``) is generated from ``app.url_map``: a route without an
entry, or an entry without a route, fails the suite. Who asks: nobody logged in; beneficiary A
(whose booking, certificate and course are asked for) and beneficiary B (for whom they are
another person's: a 404); staff holding roles at four sites A–D (reception, animateur,
administrator at A — so of "another site" at B–D —, a network administrator, a person with no
role, and the mixed person: reception at A, animateur at B, administrator at C). Refusals come
first and change nothing; then the allowed calls, never a 5xx. Every answer — pages, htmx
fragments, PDFs, CSV/XLSX/JSON files, redirects, 401/403/404/422 — has the exact CSP of the app, no
framing, the referrer policy, ``nosniff`` and ``Cache-Control: no-store`` (static files aside).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from html import unescape as html_unescape
from typing import Any

import pytest

from portal.extensions import db
from portal.models import Cheque, ChequeProgramme, StaffSiteRole
from portal.services.staff_access import Action
from tests.conftest import csrf_from, login
from tests.web.access_scene import Place, build_places, requests_for
from tests.web.access_table import (
    ANONYMOUS,
    BENEFICIARIES,
    IDENTITIES,
    LOGIN,
    OWNER,
    ROUTES,
    SITES,
    STAFF_IDENTITIES,
    Entry,
    expected,
    role_rule,
)
from tests.web.security_headers import assert_security_headers
from tests.web.test_routes import _snapshot


def test_the_matrix_has_one_entry_per_route_and_no_other(app):
    rules = {(rule.endpoint, method) for rule in app.url_map.iter_rules()
             for method in rule.methods - {"HEAD", "OPTIONS"}}
    missing, stale = sorted(rules - set(ROUTES)), sorted(set(ROUTES) - rules)
    assert not missing, (f"add {missing} to ROUTES in tests/web/access_table.py: who may reach "
                         "it (and, for a staff route, the action it needs at its object's site)")
    assert not stale, f"remove {stale} from ROUTES in tests/web/access_table.py: no such route"
    assert set(IDENTITIES) == {ANONYMOUS, *BENEFICIARIES, *STAFF_IDENTITIES}


@pytest.fixture
def places(factory, frozen_now) -> dict[str, Place]:
    return build_places(factory, frozen_now)


def staff_with(factory, places: dict[str, Place], identity: str):
    staff = factory.staff(is_network_admin=identity == "network")
    if identity != "network":
        for name, role in STAFF_IDENTITIES[identity].items():
            staff.roles.append(StaffSiteRole(site_id=places[name].site_id, role=role))
    db.session.commit()
    return staff


def signed_in(app, staff=None, *, login_id: str | None = None):
    """A client logged in as the staff member (or the beneficiary of ``login_id``), or nobody,
    holding its CSRF token."""
    client = app.test_client()
    if staff is not None or login_id is not None:
        assert login(client, login_id or staff.email).status_code == 303
    home = "/connexion" if staff is None and login_id is None else \
        "/mon-espace/" if login_id else "/equipe/"
    client.token = csrf_from(client.get(home).get_data(as_text=True))
    return client


def ask(client, endpoint: str, method: str, url: str, form: dict[str, Any], *,
        htmx: bool = False):
    """One request, its body read and its security headers checked."""
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        files = {name: (io.BytesIO(value[0]), value[1]) for name, value in form.items()
                 if isinstance(value, tuple)}  # an upload: (its bytes, its name)
        response = client.post(url, data={**form, **files, "csrf_token": client.token},
                               headers=headers)
    response.get_data()
    response.close()
    assert_security_headers(response, where=(endpoint, method, url),
                            cacheable=endpoint == "static")
    return response


def wrong_answer(response, status: int | str | None, entry: Entry, *,
                 htmx: bool = False) -> str | None:
    """What is wrong with the answer (None: it is the expected one)."""
    code = response.status_code
    if status == LOGIN:
        target = response.headers.get("HX-Redirect" if htmx else "Location", "")
        if code != (401 if htmx else 302) or not target.startswith("/connexion"):
            return f"{code} {target!r} instead of the login page"
    elif status is None:
        if entry.answer is not None and code != entry.answer:
            return f"{code} instead of {entry.answer}"
        if entry.answer is None and (code >= 500 or code in (401, 403, 404)):
            return f"{code} instead of its own answer"
    elif code != status:
        return f"{code} instead of {status}"
    elif htmx and response.headers.get("HX-Retarget") != "#flash-area":
        return "an htmx refusal not shown in the flash area"
    return None


def calls(identity: str, places: dict[str, Place]) -> Iterator[tuple]:
    """Every (entry, URL, form, expected answer) of the matrix for one identity: a staff route
    needing an action at a site is asked for the objects of each site by the staff."""
    for (endpoint, method), entry in ROUTES.items():
        sites = SITES if entry.per_site and identity in STAFF_IDENTITIES else "A"
        for site in sites:
            for url, form in requests_for(endpoint, method, places[site]):
                yield (endpoint, method, site), entry, url, form, expected(entry, identity, site)


#: staff asking every refused route once more as htmx (the others: plain only, to keep it fast):
#: between them, every staff route refused with a 404 and with a 403
HTMX_REFUSALS = {ANONYMOUS, *BENEFICIARIES, "mixed", "nowhere"}


def walk_the_matrix(client, identity: str, places: dict[str, Place]) -> int:
    """Refusals first (plain, then once per route as htmx), changing nothing; then the allowed
    calls in the table's order. Every wrong answer is listed; returns how many were checked."""
    todo = list(calls(identity, places))
    wrong: list[tuple] = []
    before = _snapshot()
    checked, htmx_asked = 0, set()
    for where, entry, url, form, status in todo:
        if status is None:
            continue
        once_as_htmx = where[:2] not in htmx_asked and identity in HTMX_REFUSALS
        htmx_asked.add(where[:2])
        for htmx in (False, True) if once_as_htmx else (False,):
            problem = wrong_answer(ask(client, *where[:2], url, form, htmx=htmx), status, entry,
                                   htmx=htmx)
            wrong += [(*where, "htmx" if htmx else "", problem)] if problem else []
            checked += 1
    assert _snapshot() == before, f"a refusal changed something ({identity})"
    for where, entry, url, form, status in todo:
        if status is None:
            problem = wrong_answer(ask(client, *where[:2], url, form), status, entry)
            wrong += [(*where, "", problem)] if problem else []
            checked += 1
    assert not wrong, (f"{identity}: answers differ from tests/web/access_table.py "
                       f"(fix the route or its entry): {wrong}")
    return checked


def test_nobody_logged_in_is_sent_to_the_login_page_everywhere_but_the_public_routes(
        app, places):
    checked = walk_the_matrix(signed_in(app), ANONYMOUS, places)
    assert checked > len(ROUTES)


def test_beneficiaries_reach_their_space_and_their_own_objects_only(app, places):
    """Beneficiary B asks for A's booking, certificate and calendar file: a 404; staff screens
    are a 403 for both; A gets her own."""
    assert BENEFICIARIES[0] == OWNER  # the person of site A, whose objects are asked for
    for identity, site in (("beneficiary B", "B"), (OWNER, "A")):
        client = signed_in(app, login_id=places[site].login_id)
        assert walk_the_matrix(client, identity, places) > len(ROUTES)


@pytest.mark.parametrize("identity", STAFF_IDENTITIES)
def test_staff_see_and_reach_what_their_role_allows_at_each_site(app, factory, places,
                                                                 identity):
    """One scene per identity: the listings, the screens' buttons, the cheque programmes, then
    every route of the matrix (the staff routes for the objects of each of the four sites)."""
    client = signed_in(app, staff_with(factory, places, identity))
    check_listings_show_only_the_allowed_sites(client, places, identity)
    check_screens_offer_only_what_the_role_allows(app, client, places, identity)
    check_programmes_and_cheques(app, client, places, identity)
    assert walk_the_matrix(client, identity, places) > len(ROUTES)


def check_listings_show_only_the_allowed_sites(client, places, identity: str) -> None:
    pages = {"/equipe/": (Action.SEE_SESSIONS, "title"),
             "/equipe/beneficiaires": (Action.SEE_PEOPLE, "person_name"),
             "/equipe/documents": (Action.SEE_DOCUMENTS, "document_number"),
             "/equipe/catalogue": (Action.SEE_SESSIONS, "title")}
    for url, (action, shown) in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        for site, place in places.items():
            visible = role_rule(identity, action, site) is None
            assert (getattr(place, shown) in text) is visible, (url, site)
        if url == "/equipe/documents":  # the deposit slip: only the sites where it is allowed
            offered = set(re.findall(r'<option value="(\d+)">Lieu ([A-D])</option>', text))
            allowed = {(str(place.site_id), site) for site, place in places.items()
                       if role_rule(identity, Action.DEPOSIT_SLIP, site) is None}
            assert offered == allowed
            assert ('action="/equipe/bordereau"' in text) is bool(allowed)


# --- screens offer only what may be done ---------------------------------------------------------

_FORM = re.compile(r'<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]+)"', re.S)
_LINK = re.compile(r'<a\b[^>]*\bhref="(/equipe/[^"#?]*)')


def _site_of(places: dict[str, Place], arguments: dict[str, int]) -> str | None:
    owners = {}
    for site, place in places.items():
        owners.update({("session_id", place.session_id): site,
                       ("session_id", place.later_session_id): site,
                       ("booking_id", place.booking_id): site,
                       ("person_id", place.person_id): site,
                       ("person_id", place.walk_in_id): site,
                       ("session_id", place.course_session_id): site,
                       ("workshop_id", place.workshop_id): site,
                       ("course_id", place.course_id): site,
                       ("document_id", place.document_id): site,
                       ("help_id", place.accompaniment_id): site,
                       ("staff_id", place.colleague_id): site})
    sites = {owners[(name, value)] for name, value in arguments.items()
             if (name, value) in owners}
    assert len(sites) <= 1, arguments
    return sites.pop() if sites else None


def check_screens_offer_only_what_the_role_allows(app, client, places, identity: str) -> None:
    """Every button (a POST form) and staff link on the staff screens leads to a route whose
    action the staff member may take at its object's site: nothing ends on "Accès refusé"."""
    adapter = app.url_map.bind("localhost")
    screens = ["/equipe/", "/equipe/documents", "/equipe/beneficiaires", "/equipe/catalogue",
               "/equipe/catalogue/parcours"]
    for place in places.values():
        screens += [f"/equipe/catalogue/ateliers/{place.workshop_id}",
                    f"/equipe/catalogue/parcours/{place.course_id}"]
        screens += [f"/equipe/seances/{place.session_id}/pointage",
                    f"/equipe/seances/{place.session_id}/pointage/personne/{place.booking_id}",
                    f"/equipe/seances/{place.session_id}/cloture",
                    f"/equipe/beneficiaires/{place.person_id}"]
        screens += [f"/equipe/accompagnements/{place.accompaniment_id}",
                    f"/equipe/accompagnements/{place.accompaniment_id}/modifier",
                    f"/equipe/accompagnements?site={place.site_id}"]
        screens += [f"/equipe/equipe/{place.colleague_id}"]
    screens += ["/equipe/equipe", "/equipe/equipe/inviter", "/equipe/journal"]
    offered = 0
    for screen in screens:
        page = client.get(screen)
        if page.status_code in (403, 404):
            continue
        text = page.get_data(as_text=True)
        targets = [(u, "POST") for u in _FORM.findall(text)] + \
                  [(u, "GET") for u in _LINK.findall(text)]
        for url, method in targets:
            endpoint, arguments = adapter.match(html_unescape(url).split("?")[0],
                                                method=method)
            if not endpoint.startswith("staff."):
                continue  # logging out, the language
            action = ROUTES[(endpoint, method)].action
            site = _site_of(places, arguments)
            if action is None or site is None:
                continue
            offered += 1
            assert role_rule(identity, action, site) is None, (screen, endpoint, site)
    assert offered or identity == "nowhere"


# --- cheque programmes: no site; written by network administrators, cheques seen per site ------


def check_programmes_and_cheques(app, client, places, identity: str) -> None:
    programme = db.session.get(ChequeProgramme, places["A"].programme_id)
    for n, place in enumerate(places.values()):
        db.session.add(Cheque(programme_id=programme.id, number=f"987654321{n}",
                              value_cents=1000, site_id=place.site_id,
                              booking_id=place.booking_id, redeemed_at=programme.created_at))
    db.session.commit()
    network = identity == "network"
    form = {"name": "Renommé", "issuer": "D", "operator": "APTIC", "face_value": "10",
            "number_pattern": "[0-9]{10}", "validity_end": "2027-12-31", "grace_days": "31",
            "sample": "1234567890"}
    if network:
        for htmx in (False, True):
            response = ask(client, "staff.programme_try", "POST", "/equipe/cheques/essai", form,
                           htmx=htmx)
            assert response.status_code == 200
        response = ask(client, "staff.programme_edit", "POST",
                       f"/equipe/cheques/{programme.id}/modifier", form, htmx=True)
        assert response.status_code == 204 and response.headers["HX-Redirect"]
    sees = {site for site in SITES if role_rule(identity, Action.SEE_CHEQUES, site) is None}
    listing = client.get("/equipe/cheques")
    detail = client.get(f"/equipe/cheques/{programme.id}")
    if not sees:
        assert (listing.status_code, detail.status_code) == (403, 403)
        return
    assert (listing.status_code, detail.status_code) == (200, 200)
    text = detail.get_data(as_text=True)
    for n, site in enumerate(places):
        assert (f"987654321{n}" in text) is (site in sees), (identity, site)
    assert ("/equipe/cheques/nouveau" in listing.get_data(as_text=True)) is network


# --- one answer policy (portal/htmx.py) ------------------------------------------------------


def test_htmx_actions_are_answered_in_place_or_with_hx_redirect_never_a_303(app, factory,
                                                                          places):
    """htmx follows a 303 silently and would swap a whole page into a fragment: every staff
    action answers htmx with its fragment (200, refusals too) or ``HX-Redirect`` (204)."""
    client = signed_in(app, staff_with(factory, places, "admin"))
    for (endpoint, method), entry in ROUTES.items():
        if method != "POST" or not endpoint.startswith("staff.") or entry.network_only:
            continue
        url, form = requests_for(endpoint, method, places["A"])[0]
        response = ask(client, endpoint, method, url, form, htmx=True)
        assert response.status_code in (200, 204), (endpoint, response.status_code)
        if response.status_code == 204:
            assert response.headers["HX-Redirect"].startswith("/equipe/"), endpoint
        # A file (a PDF, a person's data) is the same file whoever asks: no fragment of it.
        is_file = response.headers.get("Content-Disposition", "").startswith("attachment") \
            or response.mimetype == "application/pdf"
        assert "HX-Request" in response.vary or is_file or response.status_code == 204, endpoint
        assert entry.action is not None
