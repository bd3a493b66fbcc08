"""Scheduling screens without JavaScript: refused forms keep what was typed (422), successes
redirect (303) to the session's page; the session page offers only what the role allows."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

from portal.extensions import db
from portal.models import ClosureDay, OutboxMessage, WorkshopSession
from portal.models.vocab import SessionStatus, StaffRole
from tests.conftest import csrf_from, login


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    return client


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": client.token})


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def new_form(site, workshop, **fields):
    values = {"site_id": str(site.id), "workshop_id": str(workshop.id), "room": "Salle 1",
              "day": "2026-12-01", "start": "14:00", "end": "16:00", "capacity": "8",
              "repeat": "once"}
    values.update(fields)
    return values


def count_sessions() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(WorkshopSession))


def test_scheduling_one_session_and_a_refused_form_keeping_input(app, factory, frozen_now):
    site = factory.site(name="Cyberbase de Méricourt")
    workshop = factory.workshop(title="Premiers pas")
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    page = client.get("/equipe/")
    assert 'href="/equipe/seances/nouvelle"' in text(page)
    form = text(client.get("/equipe/seances/nouvelle"))
    assert "Premiers pas" in form
    assert 'name="room" type="text" value="" required maxlength="80" autocomplete="off">' in form
    refused = post(client, "/equipe/seances/nouvelle",
                   new_form(site, workshop, room="Salle bleue", start="", capacity="0"))
    assert refused.status_code == 422
    body = text(refused)
    assert "Indiquez l'heure de début" in body and 'value="Salle bleue"' in body
    assert count_sessions() == 0
    done = post(client, "/equipe/seances/nouvelle", new_form(site, workshop))
    assert done.status_code == 303
    assert count_sessions() == 1
    clash = post(client, "/equipe/seances/nouvelle",
                 new_form(site, factory.workshop(), start="15:00", end="17:00"))
    assert clash.status_code == 422
    assert "La salle « Salle 1 » est déjà prise par « Premiers pas »" in text(clash)


def test_a_series_is_previewed_with_its_closed_days_then_created(app, factory, frozen_now):
    site = factory.site()
    db.session.add(ClosureDay(site_id=site.id, first_day=date(2026, 12, 8),
                              last_day=date(2026, 12, 8), label="Immaculée fermeture"))
    db.session.commit()
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    data = new_form(site, factory.workshop(), repeat="weekly", until="2026-12-22",
                    weekdays="1")
    preview = post(client, "/equipe/seances/nouvelle", data)
    assert preview.status_code == 200
    body = text(preview)
    assert "Immaculée fermeture" in body and "3 séances seront créées" in body
    assert count_sessions() == 0
    back = post(client, "/equipe/seances/nouvelle", {**data, "confirm": "edit"})
    assert back.status_code == 200 and 'value="2026-12-22"' in text(back)
    done = post(client, "/equipe/seances/nouvelle", {**data, "confirm": "1"})
    assert done.status_code == 303
    assert count_sessions() == 3


def test_editing_cancelling_and_duplicating_from_the_session_page(app, factory, frozen_now):
    site = factory.site()
    session = factory.session(site, starts_in=timedelta(days=3), capacity=4)
    factory.booking(session, factory.beneficiary(site, email="anna@example.org"))
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    page = text(client.get(f"/equipe/seances/{session.id}"))
    for action in ("modifier", "dupliquer", "annuler"):
        assert f'href="/equipe/seances/{session.id}/{action}"' in page
    form = {"day": "2026-11-30", "start": "15:00", "end": "17:00", "room": "Salle 2",
            "capacity": "4", "animator_id": "", "note": "Apportez un stylo"}
    assert post(client, f"/equipe/seances/{session.id}/modifier", form).status_code == 303
    told = db.session.scalars(db.select(OutboxMessage.topic)).all()
    assert "session_changed" in told
    refused = post(client, f"/equipe/seances/{session.id}/modifier", {**form, "capacity": "0"})
    assert refused.status_code == 422 and 'value="Salle 2"' in text(refused)
    copy = post(client, f"/equipe/seances/{session.id}/dupliquer", {**form, "day": "2026-12-07"})
    assert copy.status_code == 303 and count_sessions() == 2
    assert post(client, f"/equipe/seances/{session.id}/annuler",
                {"reason": " "}).status_code == 422
    assert post(client, f"/equipe/seances/{session.id}/annuler",
                {"reason": "Animatrice malade"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(WorkshopSession, session.id).status is SessionStatus.CANCELLED
    again = post(client, f"/equipe/seances/{session.id}/annuler", {"reason": "Encore"})
    assert again.status_code == 303
    page = text(client.get(f"/equipe/seances/{session.id}"))
    assert "Animatrice malade" in page and "déjà annulée" in page
    assert "/modifier" not in page and "/annuler" not in page


def test_reception_sees_the_session_but_may_not_change_it(app, factory, frozen_now):
    site = factory.site()
    session = factory.session(site, starts_in=timedelta(days=3))
    client = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    page = text(client.get(f"/equipe/seances/{session.id}"))
    assert "/modifier" not in page and "/annuler" not in page and "/dupliquer" not in page
    assert 'href="/equipe/seances/nouvelle"' not in text(client.get("/equipe/"))
    assert client.get("/equipe/seances/nouvelle").status_code == 403
    assert post(client, f"/equipe/seances/{session.id}/annuler",
                {"reason": "Panne"}).status_code == 403
    assert post(client, "/equipe/seances/nouvelle",
                new_form(site, factory.workshop())).status_code == 403
    assert count_sessions() == 1


def test_closure_days_are_added_and_removed(app, factory, frozen_now):
    site = factory.site()
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    url = f"/equipe/lieux/{site.id}/fermetures"
    refused = post(client, url, {"label": "Noël", "first_day": ""})
    assert refused.status_code == 422 and 'value="Noël"' in text(refused)
    assert post(client, url, {"label": "Noël", "first_day": "2026-12-24",
                              "last_day": "2026-12-26"}).status_code == 303
    closure = db.session.scalar(db.select(ClosureDay))
    assert (closure.first_day, closure.last_day) == (date(2026, 12, 24), date(2026, 12, 26))
    assert "Noël" in text(client.get(url))
    assert post(client, url, {"remove": str(closure.id)}).status_code == 303
    assert db.session.scalar(db.select(ClosureDay)) is None


def test_my_workshops_shows_a_new_time_and_a_cancellation(app, factory, frozen_now):
    from portal.services import bookings, scheduling
    from portal.services.audit import Actor

    site = factory.site()
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    moved = factory.session(site, factory.workshop(title="Le courriel"),
                            starts_in=timedelta(days=3))
    dropped = factory.session(site, factory.workshop(title="La tablette", price_cheques=1),
                              starts_in=timedelta(days=4), room="Salle 3")
    person = factory.beneficiary(site, email="anna@example.org")
    for session in (moved, dropped):
        factory.booking(session, person)
    values = {**scheduling.form_of(moved), "start": "15:00", "end": "17:00"}
    scheduling.edit(moved, values, actor=Actor.of(staff))
    bookings.cancel_session(dropped, "Animatrice malade", actor=Actor.of(staff))
    client = app.test_client()
    assert login(client, person.login_id).status_code == 303
    body = text(client.get("/mon-espace/"))
    body = re.sub(r"<[^>]+>", "", body)
    assert "Changement. Nouvel horaire : dimanche 29 novembre 2026, de 15:00 à 17:00." in body
    assert "Animatrice malade" in body and "aucun chèque n'est perdu" in body


def test_a_session_moved_to_another_site_shows_on_my_workshops(app, factory, frozen_now):
    from portal.models import StaffSiteRole
    from portal.services import scheduling
    from portal.services.audit import Actor

    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    lens = factory.site(code="LEN", name="Cyberbase de Lens")
    staff = factory.staff(site, StaffRole.ANIMATEUR)
    staff.roles.append(StaffSiteRole(site_id=lens.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    session = factory.session(site, factory.workshop(title="Le courriel"),
                              starts_in=timedelta(days=3))
    person = factory.beneficiary(site, email="anna@example.org")
    factory.booking(session, person)
    desk = app.test_client()
    assert login(desk, staff.email).status_code == 303
    form = text(desk.get(f"/equipe/seances/{session.id}/modifier"))
    assert 'id="site_id"' in form and "Cyberbase de Lens" in form
    scheduling.edit(session, {**scheduling.form_of(session), "site_id": str(lens.id),
                              "room": "Salle B"}, actor=Actor.of(staff))
    client = app.test_client()
    assert login(client, person.login_id).status_code == 303
    body = re.sub(r"<[^>]+>", "", text(client.get("/mon-espace/")))
    assert "Changement. Nouveau lieu : Cyberbase de Lens. Nouvelle salle : Salle B." in body
