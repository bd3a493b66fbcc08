"""Scheduling one session, its conflicts, editing (with the people told) and cancelling."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.extensions import db
from portal.models import (
    AuditEvent,
    Booking,
    Cheque,
    Course,
    OutboxMessage,
    StaffSiteRole,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, Language, SessionStatus, StaffRole
from portal.services import bookings, scheduling
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.services.scene import NOW, code_of, fresh

pytestmark = pytest.mark.usefixtures("frozen")


def form(site, workshop, **fields: str) -> dict[str, str]:
    values = {"site_id": str(site.id), "workshop_id": str(workshop.id), "room": "Salle 1",
              "day": "2026-12-03", "start": "14:00", "end": "16:00", "capacity": "8",
              "animator_id": "", "note": ""}
    values.update(fields)
    return values


def error_of(call) -> ServiceError:
    with pytest.raises(ServiceError) as error:
        call()
    return error.value


def test_a_session_is_scheduled_in_paris_time_and_audited(factory, site, staff, actor):
    workshop = factory.workshop(title="Premiers pas sur la tablette", duration_minutes=90)
    session = scheduling.schedule(
        form(site, workshop, end="", animator_id=str(staff.id), note="Apportez votre tablette."),
        actor=actor)
    session = fresh(session)
    assert session.starts_at == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2026, 12, 3, 14, 30, tzinfo=UTC)  # the workshop's 90 min
    assert (session.room, session.capacity, session.animator_id) == ("Salle 1", 8, staff.id)
    assert session.note == "Apportez votre tablette."
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="session.scheduled"))
    assert event.object_id == str(session.id) and event.actor_id == staff.id


def test_each_wrong_field_is_named_and_nothing_is_written(factory, site, actor):
    workshop = factory.workshop()
    error = error_of(lambda: scheduling.schedule(
        form(site, workshop, room=" ", day="31/02", start="25:00", capacity="0"), actor=actor))
    assert error.code == "session_invalid"
    assert set(error.details["fields"]) == {"room", "day", "start", "capacity"}
    assert db.session.scalar(db.select(db.func.count()).select_from(WorkshopSession)) == 0


def test_end_before_start_and_past_dates_are_refused(factory, site, actor):
    workshop = factory.workshop()
    assert "end" in error_of(lambda: scheduling.schedule(
        form(site, workshop, start="16:00", end="14:00"), actor=actor)).details["fields"]
    assert code_of(lambda: scheduling.schedule(form(site, workshop, day="2026-11-20"),
                                               actor=actor)) == "session_in_past"


def test_a_workshop_of_another_site_or_archived_is_refused(factory, site, actor):
    other = factory.site()
    theirs = factory.workshop(site_id=other.id)
    archived = factory.workshop(is_active=False)
    for workshop in (theirs, archived):
        assert "workshop_id" in error_of(lambda w=workshop: scheduling.schedule(
            form(site, w), actor=actor)).details["fields"]
    network = factory.workshop(site_id=None)
    assert scheduling.schedule(form(site, network), actor=actor).id


def test_the_animator_must_hold_a_role_at_the_site(factory, site, actor):
    elsewhere = factory.staff(factory.site(), StaffRole.ANIMATEUR)
    error = error_of(lambda: scheduling.schedule(
        form(site, factory.workshop(), animator_id=str(elsewhere.id)), actor=actor))
    assert "animator_id" in error.details["fields"]


def test_a_time_that_does_not_exist_or_happens_twice_is_refused(factory, site, actor):
    workshop = factory.workshop()
    assert code_of(lambda: scheduling.schedule(
        form(site, workshop, day="2027-03-28", start="02:30", end="04:00"),
        actor=actor)) == "time_does_not_exist"
    assert code_of(lambda: scheduling.schedule(
        form(site, workshop, day="2027-10-31", start="02:30", end="04:00"),
        actor=actor)) == "time_ambiguous"


def test_staff_schedule_only_where_their_role_allows_it(factory, site):
    other = factory.site()
    animateur_elsewhere = Actor.of(factory.staff(other, StaffRole.ANIMATEUR))
    reception = Actor.of(factory.staff(site, StaffRole.RECEPTION))
    workshop = factory.workshop()
    assert error_of(lambda: scheduling.schedule(form(site, workshop),
                                                actor=animateur_elsewhere)).status == 404
    assert error_of(lambda: scheduling.schedule(form(site, workshop),
                                                actor=reception)).status == 403


def test_the_same_room_at_overlapping_times_is_refused_naming_the_other(factory, site, actor):
    taken = scheduling.schedule(form(site, factory.workshop(title="Le courriel"),
                                     start="13:00", end="15:00"), actor=actor)
    error = error_of(lambda: scheduling.schedule(
        form(site, factory.workshop(), room="salle 1 "), actor=actor))
    assert error.code == "room_taken"
    assert "Le courriel" in error.message and "13:00" in error.message
    assert code_of(lambda: scheduling.schedule(
        form(site, factory.workshop(), room="SALLE  1"), actor=actor)) == "room_taken"
    # half-open intervals: starting when the other ends is fine; another room too
    assert scheduling.schedule(form(site, factory.workshop(), start="15:00", end="17:00"),
                               actor=actor)
    assert scheduling.schedule(form(site, factory.workshop(), room="Salle 2"), actor=actor)
    # a cancelled session is in nobody's way
    bookings.cancel_session(taken, "Panne", actor=actor)
    assert scheduling.schedule(form(site, factory.workshop(), start="13:30", end="14:30"),
                               actor=actor)


def test_the_same_animator_anywhere_at_overlapping_times_is_refused(factory, site, staff, actor):
    other = factory.site(name="Cyberbase de Lens")
    staff.roles.append(type(staff.roles[0])(site_id=other.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    scheduling.schedule(form(other, factory.workshop(title="Démarches CAF"),
                             animator_id=str(staff.id)), actor=actor)
    error = error_of(lambda: scheduling.schedule(
        form(site, factory.workshop(), room="Salle 9", start="15:00", end="17:00",
             animator_id=str(staff.id)), actor=actor))
    assert error.code == "animator_taken"
    assert "Claire Martin" in error.message and "Cyberbase de Lens" in error.message


def booked(factory, site, session, *, language=Language.FR, status=BookingStatus.BOOKED,
           **person):
    person = factory.beneficiary(site, preferred_language=language, **person)
    return factory.booking(session, person, status=status,
                           waitlist_position=1 if status is BookingStatus.WAITLISTED else None)


def outbox(topic: str) -> list[OutboxMessage]:
    return list(db.session.scalars(db.select(OutboxMessage).filter_by(topic=topic)
                                   .order_by(OutboxMessage.id)))


def test_a_new_time_tells_everyone_booked_or_waiting_in_their_language_once(factory, site,
                                                                              actor):
    session = scheduling.schedule(form(site, factory.workshop(title="Le courriel"),
                                       capacity="1"), actor=actor)
    anna = booked(factory, site, session, email="anna@example.org")
    john = booked(factory, site, session, language=Language.EN, email="john@example.org",
                  status=BookingStatus.WAITLISTED)
    booked(factory, site, factory.session(site), email="other@example.org")
    changed = form(site, session.workshop, start="15:00", end="17:00", capacity="1")
    outcome = scheduling.edit(session, changed, actor=actor)
    assert outcome.changes == ["time"] and outcome.told == 2
    messages = outbox("session_changed")
    assert [m.beneficiary_id for m in messages] == [anna.beneficiary_id, john.beneficiary_id]
    assert "15:00" in messages[0].body and "Atelier modifié" in messages[0].subject
    assert messages[1].subject.startswith("Workshop changed")
    # the same form again changes nothing and tells nobody again
    assert scheduling.edit(fresh(session), changed, actor=actor).told == 0
    assert len(outbox("session_changed")) == 2
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="session.edited"))
    assert event.details["before"]["starts_at"].startswith("2026-12-03T13:00")
    assert event.details["after"]["starts_at"].startswith("2026-12-03T14:00")
    assert fresh(session).changes == ["time"]


def test_a_note_or_an_animator_changes_nobody_is_told(factory, site, staff, actor):
    session = scheduling.schedule(form(site, factory.workshop()), actor=actor)
    booked(factory, site, session, email="anna@example.org")
    outcome = scheduling.edit(session, form(site, session.workshop, note="Nouveau mot",
                                            animator_id=str(staff.id)), actor=actor)
    assert outcome.changes == [] and outbox("session_changed") == []
    assert fresh(session).note == "Nouveau mot"


def test_capacity_below_seats_taken_is_refused_and_raising_it_promotes(factory, site, actor):
    session = scheduling.schedule(form(site, factory.workshop(), capacity="1"), actor=actor)
    booked(factory, site, session)
    waiting = booked(factory, site, session, status=BookingStatus.WAITLISTED)
    session = fresh(session)
    session.capacity = 2
    session.seats_taken = 1
    db.session.commit()
    booked(factory, site, fresh(session))
    assert code_of(lambda: scheduling.edit(fresh(session), form(
        site, session.workshop, capacity="1"), actor=actor)) == "capacity_below_seats_taken"
    outcome = scheduling.edit(fresh(session), form(site, session.workshop, capacity="3"),
                              actor=actor)
    assert [b.id for b in outcome.promoted] == [waiting.id]
    assert fresh(waiting).status is BookingStatus.BOOKED
    assert fresh(session).seats_taken == 3


def test_a_cancelled_or_closed_session_cannot_be_edited(factory, site, actor):
    session = scheduling.schedule(form(site, factory.workshop()), actor=actor)
    scheduling.cancel(session, "Animatrice malade", actor=actor)
    assert code_of(lambda: scheduling.edit(fresh(session), form(site, session.workshop),
                                           actor=actor)) == "session_cancelled"


def test_duplicating_keeps_everything_but_the_day_and_checks_conflicts(factory, site, actor):
    session = scheduling.schedule(form(site, factory.workshop(), capacity="6"), actor=actor)
    copy_form = scheduling.form_of(session, day=date(2026, 12, 10))
    copy = scheduling.schedule(copy_form, actor=actor, duplicate_of=session)
    assert (copy.room, copy.capacity) == ("Salle 1", 6)
    assert copy.starts_at == datetime(2026, 12, 10, 13, 0, tzinfo=UTC)
    assert code_of(lambda: scheduling.schedule(copy_form, actor=actor)) == "room_taken"


def test_cancelling_tells_everyone_once_lists_cheques_and_cannot_be_repeated(factory, site,
                                                                             actor, aptic):
    session = scheduling.schedule(form(site, factory.workshop()), actor=actor)
    anna = booked(factory, site, session, email="anna@example.org", last_name="Durand")
    booked(factory, site, session, status=BookingStatus.WAITLISTED, phone="06 12 34 56 78")
    db.session.add(Cheque(programme_id=aptic.id, number="2026620101", value_cents=1000,
                          registered_at=NOW, redeemed_at=NOW, site_id=site.id,
                          booking_id=anna.id))
    db.session.commit()
    assert scheduling.cancel(fresh(session), "Animatrice malade", actor=actor) == 2
    assert [m.channel.value for m in outbox("session_cancelled")] == ["email", "sms"]
    assert code_of(lambda: scheduling.cancel(fresh(session), "Encore",
                                             actor=actor)) == "already_cancelled"
    assert len(outbox("session_cancelled")) == 2
    cheques = scheduling.cheques_taken(fresh(session))
    assert [(c.number, c.person.last_name) for c in cheques] == [("2026620101", "Durand")]
    cancelled = fresh(session)
    assert cancelled.status is SessionStatus.CANCELLED and cancelled.cancelled_by_id == actor.id
    assert db.session.scalar(db.select(db.func.count()).select_from(Booking).where(
        Booking.status == BookingStatus.CANCELLED)) == 2


def test_a_reason_is_required_and_reception_or_a_started_session_cannot_cancel(factory, site,
                                                                                actor):
    session = scheduling.schedule(form(site, factory.workshop()), actor=actor)
    assert code_of(lambda: scheduling.cancel(session, "  ", actor=actor)) == "reason_required"
    reception = Actor.of(factory.staff(site, StaffRole.RECEPTION))
    assert error_of(lambda: scheduling.cancel(session, "Panne", actor=reception)).status == 403
    begun = factory.session(site, starts_in=-(NOW - NOW.replace(hour=12)))
    assert code_of(lambda: scheduling.cancel(begun, "Panne", actor=actor)) == "session_started"
    assert fresh(begun).status is SessionStatus.SCHEDULED


def test_rooms_with_accents_are_compared_without_case(factory, site, actor):
    scheduling.schedule(form(site, factory.workshop(), room="Salle Évasion"), actor=actor)
    assert code_of(lambda: scheduling.schedule(
        form(site, factory.workshop(), room="salle évasion"), actor=actor)) == "room_taken"


def test_the_note_for_participants_is_in_the_confirmation_e_mail(factory, site, actor):
    session = scheduling.schedule(form(site, factory.workshop(),
                                       note="Apportez votre téléphone chargé."), actor=actor)
    person = factory.beneficiary(site, email="anna@example.org")
    bookings.book(session, person, actor=Actor.of(person))
    (message,) = outbox("booking_confirmed")
    assert "Un mot de l'équipe : Apportez votre téléphone chargé." in message.body


def test_a_session_moved_to_another_site_tells_everyone_and_only_where_allowed(factory, site,
                                                                               staff, actor):
    lens = factory.site(code="LEN", name="Cyberbase de Lens")
    liévin = factory.site(code="LIE", name="Médiathèque de Liévin")
    staff.roles.append(StaffSiteRole(site_id=lens.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    session = scheduling.schedule(form(site, factory.workshop(title="Le courriel")), actor=actor)
    booked(factory, site, session, email="anna@example.org")
    assert {s.id for s in scheduling.sites_to_move(staff, session)} == {site.id, lens.id}
    # no role at Liévin: that site does not exist for this animateur
    assert error_of(lambda: scheduling.edit(
        session, form(liévin, session.workshop), actor=actor)).code == "not_found"
    outcome = scheduling.edit(session, form(lens, session.workshop, room="Salle B"),
                              actor=actor)
    assert outcome.changes == ["site", "room"] and outcome.told == 1
    assert fresh(session).site_id == lens.id
    [message] = outbox("session_changed")
    assert "Cyberbase de Lens" in message.body
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="session.edited"))
    assert (event.details["before"]["site_id"], event.details["after"]["site_id"]) == (
        site.id, lens.id)


def test_a_course_session_or_a_site_workshop_stays_at_its_site(factory, site, staff, actor):
    lens = factory.site(code="LEN", name="Cyberbase de Lens")
    staff.roles.append(StaffSiteRole(site_id=lens.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    own = scheduling.schedule(form(site, factory.workshop(site_id=site.id)), actor=actor)
    error = error_of(lambda: scheduling.edit(own, form(lens, own.workshop), actor=actor))
    assert error.details["fields"] == {"site_id": "Cet atelier n'est pas proposé dans ce lieu."}
    course = Course(site_id=site.id, title="Parcours")
    db.session.add(course)
    db.session.commit()
    in_course = scheduling.schedule(form(site, factory.workshop(), day="2026-12-04"),
                                    actor=actor)
    in_course.course_id = course.id
    db.session.commit()
    assert scheduling.sites_to_move(staff, in_course) == [in_course.site]
    error = error_of(lambda: scheduling.edit(in_course, form(lens, in_course.workshop,
                                                             day="2026-12-04"), actor=actor))
    assert "parcours" in error.details["fields"]["site_id"]
    assert fresh(own).site_id == site.id and fresh(in_course).site_id == site.id
