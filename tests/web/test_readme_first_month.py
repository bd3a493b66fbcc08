"""The README's walk-through "Build the first month", on the demonstration data, as written.

Claire follows the screens by their labels only (links, field labels, buttons): she creates a
workshop with its preview, closes a day, schedules a weekly series whose preview shows the
skipped day, finds it in the week calendar, prints the month's programme, cancels the full
session (everyone booked or waiting is told) and prints the convocations of a day. A label
renamed on a screen, or a step that no longer holds, fails here: then fix the README too.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import select

from portal import clock, demo
from portal.extensions import db
from portal.models import Booking, OutboxMessage, WorkshopSession
from portal.models.vocab import BookingStatus, SessionStatus
from portal.services import passwords
from tests.conftest import login
from tests.pdf.helpers import flat, pdf_text

CLAIRE = next(a for a in demo.DEMO_ACCOUNTS if a.name == "Claire Delattre")
WORKSHOP = "Découvrir la tablette"
CLOSURE = "Journée de formation de l'équipe"


@pytest.fixture
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 hashes, computed once per password (the demo has a handful of them)."""
    monkeypatch.setattr(passwords, "hash_password",
                        functools.lru_cache(maxsize=None)(passwords.hash_password))


# --- reading a page the way a person does: by what it shows -------------------------------------


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # what the browser sends
    options: dict[str, dict[str, str]] = field(default_factory=dict)  # select: text → value
    buttons: dict[str, tuple[str, str]] = field(default_factory=dict)  # text → (name, value)
    choices: dict[str, str] = field(default_factory=dict)  # input id → value (boxes, radios)


class Page(HTMLParser):
    """The links, labels and forms of a page."""

    def __init__(self, body: str) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []
        self.labels: dict[str, str] = {}  # label text → the id it is for
        self.names: dict[str, str] = {}  # id → name
        self.forms: list[Form] = []
        self._text: list[str] | None = None
        self._open: tuple[str, dict[str, str]] | None = None
        self._select: str | None = None
        self._option: tuple[str, bool] | None = None
        self.text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
        self.feed(body)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif tag in ("a", "label", "button"):
            self._open, self._text = (tag, a), []
        elif tag == "option" and self._select is not None:
            self._option, self._text = (a.get("value", ""), "selected" in a), []
        if tag in ("input", "select", "textarea") and a.get("id"):
            self.names[a["id"]] = a.get("name", "")
        if form is None:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                form.choices[a.get("id", a["name"] + a.get("value", ""))] = a.get("value", "")
                if "checked" in a:
                    form.fields.append((a["name"], a.get("value", "on")))
            elif kind != "submit":
                form.fields.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name", "")
            form.options[self._select] = {}
        elif tag == "textarea" and a.get("name"):
            form.fields.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        text = " ".join("".join(self._text or []).split())
        form = self.forms[-1] if self.forms else None
        if tag == "option" and self._option is not None and form and self._select:
            value, selected = self._option
            form.options[self._select][text] = value
            if selected:
                form.fields.append((self._select, value))
            self._option, self._text = None, None
        elif tag == "select":
            self._select = None
        elif self._open and tag == self._open[0]:
            attrs = self._open[1]
            if tag == "a":
                self.links.append((text, attrs.get("href", "")))
            elif tag == "label" and attrs.get("for"):
                self.labels.setdefault(text.removesuffix(" (facultatif)"), attrs["for"])
            elif tag == "button" and form is not None:
                form.buttons[text] = (attrs.get("name", ""), attrs.get("value", ""))
            self._open, self._text = None, None

    def link(self, text: str) -> str:
        found = [href for shown, href in self.links if shown.strip("←→ ") == text]
        assert found, f"no link {text!r}"
        return html.unescape(found[0])

    def form(self, button: str) -> Form:
        found = [f for f in self.forms if button in f.buttons]
        assert found, f"no button {button!r}"
        return found[0]


def page(response: Any) -> Page:
    assert response.status_code == 200, response.status_code
    return Page(response.get_data(as_text=True))


def fill(screen: Page, form: Form, typed: dict[str, str], *, choose: dict[str, str] | None = None,
         tick: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """The form as sent once the person typed in the fields named by their labels, chose
    options by their text and ticked boxes by their labels."""
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)
    for label, value in typed.items():
        assert label in screen.labels, f"no field labelled {label!r}"
        data[screen.names[screen.labels[label]]] = [value]
    for label, text in (choose or {}).items():
        name = screen.names[screen.labels[label]]
        assert text in form.options[name], f"no choice {text!r} in {label!r}"
        data[name] = [form.options[name][text]]
    for label in tick:
        assert label in screen.labels, f"no box labelled {label!r}"
        box = screen.labels[label]
        name = screen.names[box]
        data[name] = [*data.get(name, []), form.choices[box]] if name in ("weekdays", "themes") \
            else [form.choices[box]]
    return data


def press(client: Any, screen: Page, button: str, typed: dict[str, str] | None = None,
          **options: Any) -> Any:
    form = screen.form(button)
    data = fill(screen, form, typed or {}, **options)
    name, value = form.buttons[button]
    if name:
        data[name] = [value]
    if form.method == "get":
        return client.get(form.action, query_string=data)
    return client.post(form.action, data=data)


def shown(response: Any) -> str:
    """The text a person reads on the page."""
    return Page(response.get_data(as_text=True)).text


# --- the walk-through ----------------------------------------------------------------------------


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 24, 13, 30, tzinfo=UTC),  # a Tuesday afternoon
    datetime(2026, 11, 28, 9, 0, tzinfo=UTC),  # a Saturday morning
], ids=["tuesday", "saturday"])
def test_the_readme_builds_the_first_month_on_the_demo(app, quick_hashing, at):
    clock.freeze(at)
    demo.load()
    today = clock.today_local()
    next_tuesday = today + timedelta(days=(1 - today.weekday() - 1) % 7 + 1)
    closed = next_tuesday + timedelta(weeks=1)
    client = app.test_client()
    assert login(client, CLAIRE.identifier, CLAIRE.secret).status_code == 303
    home = page(client.get("/equipe/"))

    # 1. Catalogue → Créer un atelier, Aperçu, then Enregistrer l'atelier.
    catalogue = page(client.get(home.link("Catalogue")))
    form_page = page(client.get(catalogue.link("Créer un atelier")))
    typed = {"Titre": WORKSHOP, "Durée (minutes)": "90",
             "Description": "Allumer la tablette, toucher, glisser, installer une application."}
    preview = press(client, form_page, "Aperçu", typed, tick=("Prendre en main du matériel",))
    assert "Aperçu : ce que verra le bénéficiaire" in shown(preview)
    assert WORKSHOP in shown(preview)
    saved = press(client, page(preview), "Enregistrer l'atelier")
    assert saved.status_code == 303
    assert f"L'atelier « {WORKSHOP} » est enregistré." in shown(client.get(saved.location))

    # 2. Séances → Programmer une séance → Jours de fermeture : … → Ajouter la fermeture.
    new = page(client.get(home.link("Séances")))
    new = page(client.get(new.link("Programmer une séance")))
    closures = page(client.get(new.link("Jours de fermeture : Cyberbase de Méricourt")))
    added = press(client, closures, "Ajouter la fermeture",
                  {"Nom": CLOSURE, "Premier jour": closed.isoformat()})
    assert added.status_code == 303
    assert "Fermeture ajoutée." in shown(client.get(added.location))

    # 3. A weekly series: its preview shows the day skipped, then Créer les 4 séances.
    checked = press(client, new, "Programmer",
                    {"Date": next_tuesday.isoformat(), "Début": "10:00",
                     "Salle": "Salle informatique", "Nombre de séances": "4"},
                    choose={"Atelier": WORKSHOP, "Animation": "Claire Delattre"},
                    tick=("Chaque semaine (une série)", "mardi"))
    text = shown(checked)
    assert f"Vérifier la série : {WORKSHOP}" in text
    assert "Jours sautés (lieu fermé)" in text and CLOSURE in text
    created = press(client, page(checked), "Créer les 4 séances")
    assert created.status_code == 303
    assert "4 séances programmées." in shown(client.get(created.location))
    series = list(db.session.scalars(select(WorkshopSession).join(WorkshopSession.workshop)
                                     .where(WorkshopSession.series_id.is_not(None))
                                     .filter_by(title=WORKSHOP)
                                     .order_by(WorkshopSession.starts_at)))
    days = [clock.local(s.starts_at).date() for s in series]
    assert days == [next_tuesday, *(closed + timedelta(weeks=n) for n in (1, 2, 3))]

    # 4. Programme: the week calendar shows it (Semaine suivante until its week).
    week = page(client.get(home.link("Programme")))
    for _ in range(2):
        if WORKSHOP in [text for text, _href in week.links]:
            break
        week = page(client.get(week.link("Semaine suivante")))
    assert WORKSHOP in [text for text, _href in week.links]

    # 5. Mois → Télécharger le programme (PDF), for the month of the first session.
    month = page(client.get(week.link("Mois")))
    if next_tuesday.month != today.month:
        month = page(client.get(month.link("Mois suivant")))
    printed = press(client, month, "Télécharger le programme (PDF)")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert WORKSHOP in flat(pdf_text(printed.data))

    # 6. Cancel the full session (3 waiting): everyone booked or waiting is told.
    full = next(s for s in db.session.scalars(select(WorkshopSession).order_by(
        WorkshopSession.starts_at)) if s.starts_at > clock.now()
        and s.status is SessionStatus.SCHEDULED and s.is_full)
    waiting = db.session.scalars(select(Booking).filter_by(
        session_id=full.id, status=BookingStatus.WAITLISTED)).all()
    assert full.workshop.title == "Fabriquer des badges" and len(waiting) == 3
    week = page(client.get("/equipe/programme", query_string={
        "site": full.site_id, "semaine": clock.local(full.starts_at).date().isoformat()}))
    assert "Fabriquer des badges" in week.text and "6 / 6 places, 3 en attente" in week.text
    detail = next(href for text, href in week.links if text == "Fabriquer des badges"
                  and href.endswith(f"/{full.id}"))
    cancel = page(client.get(page(client.get(detail)).link("Annuler la séance")))
    people = full.seats_taken + len(waiting)
    assert people == 9  # as the README says
    assert f"{people} personnes inscrites ou en liste d'attente seront prévenues" in \
        cancel.text
    done = press(client, cancel, "Annuler la séance",
                 {"Raison de l'annulation": "L'animateur est malade."})
    assert done.status_code == 303
    assert f"Séance annulée. {people} personnes sont prévenues." in shown(
        client.get(done.location))
    told = db.session.scalars(select(OutboxMessage).filter_by(topic="session_cancelled")
                              .where(OutboxMessage.body.contains("L'animateur est malade."))
                              ).all()
    assert told  # everyone who can be reached gets the message; the others a convocation

    # 7. Programme → Convocations: Jour, Afficher, then Imprimer les convocations (PDF).
    convocations = page(client.get(week.link("Convocations")))
    for offset in range(1, demo.FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        listed = press(client, convocations, "Afficher", {"Jour": day.isoformat()})
        if "à imprimer" in shown(listed) and "Personne à convoquer" not in shown(listed):
            break
    else:
        pytest.fail("no day with a convocation to print")
    assert re.search(r"\d+ convocations? à imprimer", shown(listed))
    slips = press(client, page(listed), "Imprimer les convocations (PDF)")
    assert slips.status_code == 200 and slips.mimetype == "application/pdf"
    assert "Convocations du" in flat(pdf_text(slips.data))
