"""The README's check-in walk-through, on the demonstration data, as written.

Claire opens today's last session: MAR-762 is checked in (green), then "already checked in"
(yellow); a cheque of ten digits is taken with its receipt; KEV-348, booked on another day, is
a walk-in (blue) and is added. Nobody of the demo is answered with a red refusal at the door.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from portal import clock, demo
from portal.extensions import db
from portal.models import Beneficiary, Booking, WorkshopSession
from portal.models.vocab import BookingStatus, SessionStatus
from portal.services import passwords
from tests.conftest import csrf_from, login

CLAIRE = next(a for a in demo.DEMO_ACCOUNTS if a.name == "Claire Delattre")


@pytest.fixture
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2 hashes, computed once per password (the demo has a handful of them)."""
    monkeypatch.setattr(passwords, "hash_password",
                        functools.lru_cache(maxsize=None)(passwords.hash_password))


def answer(response) -> tuple[str, str, str]:
    body = response.get_data(as_text=True)
    code = re.search(r'data-result-code="([^"]*)"', body).group(1)
    tone = re.search(r'<div class="result result-([a-z]+)"', body).group(1)
    label = re.search(r'<p class="result-label">(.*?)</p>', body).group(1)
    return code, tone, label


@pytest.mark.parametrize("at", [
    datetime(2026, 11, 24, 13, 30, tzinfo=UTC),  # Tuesday 14:30 in Paris
    datetime(2026, 11, 26, 16, 30, tzinfo=UTC),  # Thursday, after both sessions
    datetime(2026, 11, 28, 9, 0, tzinfo=UTC),  # Saturday 10:00, the morning session
], ids=["tuesday", "thursday", "saturday"])
def test_the_readme_walk_through_works_on_the_demo(app, quick_hashing, at):
    clock.freeze(at)
    demo.load()
    today = clock.local(clock.now()).date()
    last = max((s for s in db.session.scalars(select(WorkshopSession))
                if clock.local(s.starts_at).date() == today and s.course_id is None
                and s.status is SessionStatus.SCHEDULED), key=lambda s: s.starts_at)
    people = {p.login_id: p.id for p in db.session.scalars(select(Beneficiary))}
    client = app.test_client()
    assert login(client, CLAIRE.identifier, CLAIRE.secret).status_code == 303
    page = client.get(f"/equipe/seances/{last.id}/pointage")
    assert page.status_code == 200
    headers = {"HX-Request": "true", "X-CSRFToken": csrf_from(page.get_data(as_text=True))}
    url = f"/equipe/seances/{last.id}/pointage"

    def scan(code: str):
        return client.post(f"{url}/scan", data={"code": code}, headers=headers)

    assert answer(scan("MAR-762"))[:2] == ("checked_in", "ok")
    assert answer(scan("MAR-762"))[:2] == ("already_checked_in", "warn")
    martine = db.session.scalar(select(Booking).filter_by(
        session_id=last.id, beneficiary_id=people[demo.MARTINE_LOGIN_ID]))
    taken = client.post(f"{url}/{martine.id}/cheques", data={"numbers": "2026629901"},
                        headers=headers)
    assert answer(taken)[:2] == ("cheques_redeemed", "ok")
    assert "Reçu n°" in taken.get_data(as_text=True)

    kevin = scan("KEV-348")
    assert answer(kevin) == ("walk_in_possible", "info", "Sans inscription")
    body = kevin.get_data(as_text=True)
    assert 'id="walk-in-button"' in body and 'data-focus="walk-in"' in body
    added = client.post(f"{url}/ajout", headers=headers, data={
        "person_id": str(people[demo.KEVIN_LOGIN_ID]), "presented": "KEV-348"})
    assert answer(added)[:2] == ("walk_in_added", "info")
    db.session.expire_all()
    assert db.session.scalar(select(Booking).filter_by(
        session_id=last.id, beneficiary_id=people[demo.KEVIN_LOGIN_ID])).status is \
        BookingStatus.PRESENT

    # Every demo person at the door: checked in, already there, a walk-in or (once the
    # session is full) "Complet" with one more seat offered; never a red refusal.
    for login_id in people:
        code, tone, label = answer(scan(login_id))
        assert tone != "error" and label != "Refusé", (login_id, code)
