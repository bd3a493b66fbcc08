"""Cheque programmes from the screen (``services/programmes.py``): the number pattern's safety
rules, euros with a comma, network administrators only, the audit of what changed, and the
cheques of a programme scoped to the sites where the viewer sees cheques."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, ChequeProgramme
from portal.models.vocab import BookingStatus, StaffRole
from portal.models.vouchers import Cheque
from portal.services import programmes, vouchers
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, ValidationFailed
from portal.services.programmes import ProgrammeInput

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def network(factory):
    return Actor.of(factory.staff(is_network_admin=True, full_name="Réseau"))


def form(**changes) -> ProgrammeInput:
    values = {"name": "Pass Numérique – Pas-de-Calais 2027",
              "issuer": "Département du Pas-de-Calais", "operator": "APTIC",
              "face_value": "10,50", "number_pattern": "[0-9]{10}",
              "validity_end": "2027-12-31", "grace_days": "31", "is_active": True}
    values.update(changes)
    return ProgrammeInput(**values)


def refused(data: ProgrammeInput, actor: Actor) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        programmes.create(data, actor=actor)
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(ChequeProgramme.id))) == 0
    return caught.value.details["fields"]


def test_a_programme_is_created_with_euros_typed_with_a_comma(network):
    programme = programmes.create(form(), actor=network)
    db.session.expire_all()
    stored = db.session.get(ChequeProgramme, programme.id)
    assert stored.face_value_cents == 1050 and stored.validity_end == date(2027, 12, 31)
    assert stored.accepted_until == date(2028, 1, 31)
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="programme.created"))
    assert event.details["changes"]["face_value_cents"] == {"before": None, "after": 1050}


@pytest.mark.parametrize(("typed", "cents"), [("10", 1000), ("10,5", 1050), ("7.25 €", 725),
                                              (" 1000,00 ", 100000), ("0,01", 1)])
def test_euros_are_read_as_typed(typed, cents):
    assert programmes.parse_euros(typed) == cents


@pytest.mark.parametrize("typed", ["", "dix", "10,555", "-5", "1e3", "10 000"])
def test_other_amounts_are_not_euros(typed):
    assert programmes.parse_euros(typed) is None


@pytest.mark.parametrize("pattern", [
    r"(a+)+", r"([0-9]+)*", r"(?:[0-9]{2})+", r"(a|aa)*b", r"([A-Z]|[0-9])+",  # nested
    r"(\d)\1", r"(?=\d)\d{4}", r"(?<!X)\d{4}",  # back-references, look-arounds
    r"\d+\d+\d+\d+\d+",  # too many ways to split a number
    r"[0-9", r"[0-9]*", "", "[0-9]" * 30,  # broken, empty, too long
])
def test_patterns_open_to_catastrophic_backtracking_or_broken_are_refused(network, pattern):
    fields = refused(form(number_pattern=pattern), network)
    assert list(fields) == ["number_pattern"]


@pytest.mark.parametrize("pattern", [r"[0-9]{10}", r"[0-9A-Z]{6,30}", r"(PN|AP)[0-9]{8}",
                                     r"[A-Z]{2}[0-9]{6}", r"62[0-9]{8}", r"[0-9]+-?[A-Z]?"])
def test_usual_patterns_are_accepted(pattern):
    assert programmes.pattern_problem(pattern) is None


def test_an_accepted_pattern_answers_fast_on_the_longest_hostile_number():
    for pattern in (r"[0-9]+[0-9]*[0-9]+[0-9]*X", r"(PN|AP)?[0-9A-Z]{6,30}"):
        assert programmes.pattern_problem(pattern) is None
        started = time.perf_counter()
        re.fullmatch(pattern, "1" * 40)
        assert time.perf_counter() - started < 0.5


def test_the_live_test_normalises_the_number_as_the_check_in_does(app):
    matched, text = programmes.try_number(r"[0-9]{10}", " 62-072 611 00 ")
    assert matched is True and "6207261100" in text
    assert programmes.try_number(r"[0-9]{10}", "ABC")[0] is False
    assert programmes.try_number(r"(a+)+", "aaa")[0] is None
    assert programmes.try_number(r"[0-9]{10}", "  ")[0] is None


def test_other_fields_are_checked(network):
    fields = refused(form(name="", face_value="0", validity_end="31/12/2027",
                          grace_days="400"), network)
    assert set(fields) == {"name", "face_value", "validity_end", "grace_days"}
    for typed in ("²", "٣", "-1", "3.5"):
        assert set(refused(form(grace_days=typed), network)) == {"grace_days"}
    for typed in ("١٠", "10,٥", "１０"):
        assert set(refused(form(face_value=typed), network)) == {"face_value"}


def test_only_a_network_administrator_creates_or_edits(factory, site, network):
    admin = Actor.of(factory.staff(site, StaffRole.ADMIN))
    with pytest.raises(NotAllowed):
        programmes.create(form(), actor=admin)
    programme = programmes.create(form(), actor=network)
    with pytest.raises(NotAllowed):
        programmes.update(programme, form(name="Autre"), actor=admin)
    db.session.rollback()
    assert db.session.get(ChequeProgramme, programme.id).name.startswith("Pass")


def test_an_edit_audits_only_what_changed(network):
    programme = programmes.create(form(), actor=network)
    changed = programmes.update(programme, replace(ProgrammeInput.of(programme),
                                                   grace_days="10", is_active=False),
                                actor=network)
    assert changed == {"grace_days": {"before": 31, "after": 10},
                       "is_active": {"before": True, "after": False}}
    assert programmes.update(programme, ProgrammeInput.of(programme), actor=network) == {}
    events = db.session.scalars(db.select(AuditEvent).filter_by(action="programme.updated"))
    assert len(list(events)) == 1


def test_the_command_line_goes_through_the_same_rules():
    with pytest.raises(ValidationFailed) as caught:
        vouchers.create_programme(name="X", issuer="D", operator="APTIC",
                                  number_pattern=r"(a+)+", validity_end=date(2027, 12, 31),
                                  actor=Actor.system())
    assert caught.value.code == "pattern_invalid"


def test_the_cheques_of_a_programme_are_those_of_the_viewer_s_sites(factory, site, aptic):
    other = factory.site(code="LEN", name="Cyberbase de Lens")
    for where, number in ((site, "6207261100"), (other, "6207261101")):
        session = factory.session(where, starts_in=timedelta(hours=-1))
        booking = factory.booking(session, factory.beneficiary(where),
                                  status=BookingStatus.PRESENT)
        db.session.add(Cheque(programme_id=aptic.id, number=number, value_cents=1000,
                              redeemed_at=session.starts_at, site_id=where.id,
                              booking_id=booking.id))
    db.session.add(Cheque(programme_id=aptic.id, number="6207261102", value_cents=1000))
    db.session.commit()
    animateur = factory.staff(site, StaffRole.ANIMATEUR)
    page = programmes.cheques_of(animateur, aptic)
    assert [c.number for c in page.cheques] == ["6207261100"] and page.total == 1
    assert page.paid_for[page.cheques[0].id]
    assert dict((p.id, n) for p, n in programmes.listing(animateur)) == {aptic.id: 1}
    network = factory.staff(is_network_admin=True)
    assert programmes.cheques_of(network, aptic).total == 3
    reception = factory.staff(site, StaffRole.RECEPTION)
    with pytest.raises(NotAllowed):
        programmes.listing(reception)


def test_cheques_come_by_pages(factory, site, aptic):
    for n in range(programmes.PAGE_SIZE + 3):
        db.session.add(Cheque(programme_id=aptic.id, number=f"62072{n:05d}", value_cents=1000,
                              site_id=site.id))
    db.session.commit()
    viewer = factory.staff(site, StaffRole.ANIMATEUR)
    first = programmes.cheques_of(viewer, aptic)
    last = programmes.cheques_of(viewer, aptic, page=99)
    assert (first.pages, len(first.cheques), last.page, len(last.cheques)) == (
        2, programmes.PAGE_SIZE, 2, 3)
