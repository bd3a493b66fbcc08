"""Convocations: who gets a printed slip (booked people no message reaches, in sessions that
take place), the PDF read back in French, the audit, and an empty day refused."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from portal.clock import PARIS
from portal.extensions import db
from portal.models.audit import AuditEvent
from portal.models.vocab import BookingStatus, SessionStatus, StaffRole
from portal.services import convocations
from portal.services.audit import Actor
from tests.pdf.helpers import accessibility_problems, flat, page_count, pdf_text, title
from tests.services.scene import code_of

DAY = date(2026, 12, 8)


def wall(*fields: int) -> datetime:
    """A wall-clock time in Paris."""
    return datetime(*fields, tzinfo=PARIS)


def session_on(site, factory, hour=14, **fields):
    start = wall(2026, 12, 8, hour, 0)
    return factory.session(site, starts_at=start, ends_at=start + timedelta(hours=2), **fields)


def unreachable(factory, site, **fields):
    values = {"email": "", "phone": "", "has_no_phone": True}
    values.update(fields)
    return factory.beneficiary(site, **values)


def names(site, day=DAY) -> list[str]:
    return [c.name for c in convocations.unreachable_bookings(site, day)]


def test_only_booked_people_without_email_nor_mobile_in_sessions_that_take_place(app, factory):
    site = factory.site()
    session = session_on(site, factory)
    factory.booking(session, unreachable(factory, site, first_name="Aline", last_name="Petit"))
    factory.booking(session, unreachable(factory, site, first_name="Bruno", last_name="Landline",
                                         has_no_phone=False, phone="03 21 45 67 89"))
    factory.booking(session, unreachable(factory, site, first_name="Mail", email="m@example.org"))
    factory.booking(session, unreachable(factory, site, first_name="Mobile", has_no_phone=False,
                                         phone="06 12 34 56 78"))
    factory.booking(session, unreachable(factory, site, first_name="Attente"),
                    status=BookingStatus.WAITLISTED, waitlist_position=1)
    factory.booking(session, unreachable(factory, site, first_name="Parti"),
                    status=BookingStatus.CANCELLED)
    factory.booking(session, unreachable(factory, site, first_name="Anonyme",
                                         anonymised_at=wall(2026, 11, 1)))
    cancelled = session_on(site, factory, hour=9, status=SessionStatus.CANCELLED)
    factory.booking(cancelled, unreachable(factory, site, first_name="Annulée"))
    factory.booking(session_on(factory.site(), factory), unreachable(factory, site,
                                                                     first_name="Ailleurs"))
    next_day = factory.session(site, starts_at=wall(2026, 12, 9, 0, 30),
                               ends_at=wall(2026, 12, 9, 2, 0))
    factory.booking(next_day, unreachable(factory, site, first_name="Lendemain"))
    # A landline cannot take an SMS: Bruno gets a slip too.
    assert names(site) == ["Aline Petit", "Bruno Landline"]


def test_the_pdf_has_one_slip_per_booking_in_french_three_to_a_page_and_is_audited(
        app, factory):
    site = factory.site(name="Cyberbase de Méricourt", address="2 rue Jean Jaurès",
                        postcode="62680", city="Méricourt", phone="03 21 00 00 00")
    workshop = factory.workshop(title="Écrire un e-mail", what_to_bring="Votre carte Vitale")
    session = session_on(site, factory, workshop=workshop, room="Salle 2", capacity=10,
                         note="Entrée par la cour de la médiathèque")
    people = [unreachable(factory, site, first_name=f"Personne{n}", last_name="Martin")
              for n in range(4)]
    for person in people:
        factory.booking(session, person)
    staff = factory.staff(site, StaffRole.RECEPTION)
    pdf = convocations.print_day(staff, site, DAY, actor=Actor.of(staff))
    text = flat(pdf_text(pdf, layout=False)).replace("\n", " ")
    assert title(pdf) == "Convocations du mardi 8 décembre 2026 – Cyberbase de Méricourt"
    assert page_count(pdf) == 2  # three slips to a page
    assert accessibility_problems(pdf) == []
    for n in range(4):
        assert f"Personne{n} Martin" in text
    assert "Mardi 8 décembre 2026" in text and "14:00 – 16:00" in text
    assert "Cyberbase de Méricourt, 2 rue Jean Jaurès, 62680 Méricourt" in text
    assert "Salle 2" in text and "Votre carte Vitale" in text and "03 21 00 00 00" in text
    assert text.count("Écrire un e-mail") == 4
    assert text.count("Entrée par la cour de la médiathèque") == 4
    [event] = db.session.scalars(db.select(AuditEvent).filter_by(
        action="convocations.printed")).all()
    assert event.actor_id == staff.id and event.site_id == site.id
    assert event.details["day"] == "2026-12-08" and event.details["count"] == 4


def test_an_empty_day_gives_a_plain_message_and_no_pdf(app, factory):
    site = factory.site()
    session = session_on(site, factory)
    factory.booking(session, factory.beneficiary(site, email="a@example.org"))
    staff = factory.staff(site, StaffRole.RECEPTION)
    assert code_of(lambda: convocations.print_day(staff, site, DAY,
                                                  actor=Actor.of(staff))) == "no_convocations"
    assert db.session.scalar(db.select(db.func.count()).select_from(AuditEvent).filter_by(
        action="convocations.printed")) == 0


def test_another_sites_convocations_do_not_exist_for_the_staff_member(app, factory):
    site, other = factory.site(), factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    assert code_of(lambda: convocations.day_list(staff, other, DAY)) == "not_found"
