"""Registering a person at the desk, correcting their details, resetting their access; and
finding people (folded, typo-tolerant, in one query). One rule per test, no HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, Beneficiary, LoginSession
from portal.models.vocab import ContactChannel, MessageChannel, StaffRole
from portal.services import accounts, login_sessions, messages, people, registration
from portal.services.audit import Actor
from portal.services.errors import AuthenticationFailed, ValidationFailed
from portal.services.registration import LikelyDuplicates, PersonInput
from tests.services.scene import code_of

pytestmark = pytest.mark.usefixtures("frozen")


def form(site, **fields) -> PersonInput:
    return PersonInput(site=str(site.id), **fields)


def problems(call) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as error:
        call()
    return error.value.details["fields"]


# --- registering --------------------------------------------------------------------------------


def test_only_the_first_name_is_required(site, actor, staff):
    person = registration.register(form(site, first_name="  Hélène "), actor=actor)
    assert (person.first_name, person.last_name, person.home_site_id) == ("Hélène", "", site.id)
    assert person.login_id and person.created_by_id == staff.id
    assert person.preferred_channel is None
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="person.registered"))
    assert event.object_id == str(person.id) and event.details["fields"] == [
        "first_name", "gender", "home_site_id", "preferred_language", "social_status"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"first_name": ""}, "first_name"),
    ({"phone": "06 12 AB"}, "phone"),
    ({"phone": "12"}, "phone"),
    ({"email": "marie@"}, "email"),
    ({"birth_year": "1850"}, "birth_year"),
    ({"birth_year": "2099"}, "birth_year"),
    ({"birth_year": "56"}, "birth_year"),
    ({"postcode": "6268"}, "postcode"),
    ({"gender": "other"}, "gender"),
    ({"social_status": "x"}, "social_status"),
    ({"language": "de"}, "language"),
    ({"channel": "pigeon"}, "channel"),
    ({"channel": "email"}, "channel"),
    ({"channel": "sms", "phone": "03 21 00 00 00"}, "channel"),
    ({"first_name": "x" * 81}, "first_name"),
])
def test_each_field_is_checked(site, actor, fields, field):
    data = form(site, **{"first_name": "Marie", **fields})
    assert field in problems(lambda: registration.register(data, actor=actor))
    assert db.session.scalar(db.select(db.func.count(Beneficiary.id))) == 0


def test_every_problem_is_told_at_once(site, actor):
    data = form(site, first_name="", email="x", postcode="1")
    assert set(problems(lambda: registration.register(data, actor=actor))) == {
        "first_name", "email", "postcode"}


def test_a_site_where_the_staff_may_not_register_is_refused(factory, site, actor):
    other = factory.site(code="AUT")
    data = form(other, first_name="Marie")
    assert code_of(lambda: registration.register(data, actor=actor)) == "not_found"
    data = PersonInput(first_name="Marie", site="999")
    assert "site" in problems(lambda: registration.register(data, actor=actor))


def test_no_phone_clears_the_number_and_a_full_form_is_kept(site, actor):
    person = registration.register(form(
        site, first_name="Marie", last_name="Curie", phone="06 12 34 56 78", has_no_phone=True,
        email="Marie@Example.org", birth_year="1956", commune="Méricourt", postcode="62680",
        gender="female", social_status="retired", language="en", channel="paper"),
        actor=actor)
    assert (person.phone, person.has_no_phone, person.email, person.birth_year) == (
        "", True, "marie@example.org", 1956)
    assert person.preferred_channel is ContactChannel.PAPER


# --- likely duplicates --------------------------------------------------------------------------


@pytest.mark.parametrize(("known", "typed", "reason"), [
    ({"first_name": "Hélène", "last_name": "Durand", "birth_year": 1950},
     {"first_name": "helene", "last_name": "DURAND", "birth_year": "1950"}, "same_name_year"),
    ({"first_name": "Jean", "last_name": "Petit", "phone": "06 12 34 56 78"},
     {"first_name": "Paul", "phone": "+33 6 12 34 56 78"}, "same_phone"),
    ({"first_name": "Jean", "email": "jean@example.org"},
     {"first_name": "Marc", "email": "JEAN@example.org"}, "same_email"),
    ({"first_name": "Hélène", "last_name": "Durand"},
     {"first_name": "Helene", "last_name": "Durant"}, "similar_name"),
])
def test_a_likely_duplicate_is_shown_before_saving(factory, site, actor, known, typed, reason):
    twin = factory.beneficiary(site, **known)
    data = form(site, **typed)
    with pytest.raises(LikelyDuplicates) as error:
        registration.register(data, actor=actor)
    assert [(d.person.id, d.reasons) for d in error.value.found] == [(twin.id, [reason])]
    assert db.session.scalar(db.select(db.func.count(Beneficiary.id))) == 1
    person = registration.register(data, actor=actor, not_a_duplicate=True)
    assert person.id != twin.id


def test_someone_only_alike_is_not_a_duplicate(factory, site, actor):
    factory.beneficiary(site, first_name="Hélène", last_name="Durand", birth_year=1950,
                        phone="06 12 34 56 78")
    registration.register(form(site, first_name="Hélène", last_name="Martin",
                               phone="06 12 34 56 79"), actor=actor)


def test_people_of_another_site_are_not_shown_as_duplicates(factory, site, actor):
    factory.beneficiary(factory.site(code="AUT"), first_name="Marie", last_name="Curie")
    registration.register(form(site, first_name="Marie", last_name="Curie"), actor=actor)


# --- finding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["Helene Durant", "durand", "HÉLÈNE", "dur hel",
                                   "06.12.34.56.78", "0612 34", "+33 6 12 34 56 78",
                                   "helene.durand@example", "Durrand"])
def test_search_is_case_accent_and_typo_tolerant(factory, site, staff, typed):
    found = factory.beneficiary(site, first_name="Hélène", last_name="Durand",
                                phone="06 12 34 56 78", email="helene.durand@example.org")
    factory.beneficiary(site, first_name="Paul", last_name="Martin", phone="03 21 00 00 00")
    assert [p.id for p in people.search(staff, typed)] == [found.id]


def test_search_by_identifier(factory, site, staff):
    person = factory.beneficiary(site)
    assert people.search(staff, person.login_id_display.lower()) == [person]


def test_search_costs_one_query_whatever_the_number_of_people(factory, site, staff,
                                                              count_queries):
    counts = []
    for _round in range(2):
        for _n in range(20):
            factory.beneficiary(site, last_name="Durand")
        db.session.expire_all()
        staff_again = db.session.get(type(staff), staff.id)
        with count_queries() as counter:
            results = people.search(staff_again, "durand")
            [(p.display_name, p.login_id_display, p.phone, p.commune) for p in results]
        counts.append(counter.count)
    assert counts[0] == counts[1] <= 2
    assert len(people.search(staff, "durand")) == people.MAX_RESULTS


# --- editing ------------------------------------------------------------------------------------


def test_an_edit_audits_only_what_changed_and_never_the_notes(factory, site, actor):
    person = factory.beneficiary(site, first_name="Marie", last_name="Curie")
    data = PersonInput.of(person)
    data.phone, data.staff_notes = "06 12 34 56 78", "Secret médical"
    assert registration.update(person, data, actor=actor) == ["phone", "staff_notes"]
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="person.edited"))
    assert event.details == {"fields": ["phone", "staff_notes"],
                             "values": {"phone": "06 12 34 56 78"}}
    assert "Secret" not in str(event.details)
    assert registration.update(person, PersonInput.of(person), actor=actor) == []


def test_a_person_of_another_site_cannot_be_edited(factory, site, actor):
    person = factory.beneficiary(factory.site(code="AUT"))
    assert code_of(lambda: registration.update(person, PersonInput.of(person),
                                                actor=actor)) == "unknown_person"


def test_the_preferred_channel_decides_the_messages(factory, site):
    person = factory.beneficiary(site, email="marie@example.org", phone="06 12 34 56 78")
    assert messages.channel_for(person) == (MessageChannel.EMAIL, "marie@example.org")
    person.preferred_channel = ContactChannel.SMS
    assert messages.channel_for(person) == (MessageChannel.SMS, "0612345678")
    person.preferred_channel = ContactChannel.PAPER
    assert messages.channel_for(person) is None


# --- resetting access ---------------------------------------------------------------------------


def test_reset_access_ends_the_sessions_and_the_old_code_fails(factory, site, actor, app):
    person = factory.beneficiary(site, password_hash=None)
    code = accounts.issue_first_login_code(person, validity=timedelta(days=7),
                                           actor=Actor.system())
    for _n in range(2):
        login_sessions.start(person, idle_timeout=timedelta(hours=1),
                             absolute_lifetime=timedelta(hours=8))
    db.session.commit()
    assert accounts.authenticate(person.login_id, code, ip="127.0.0.1").must_choose_password
    assert registration.reset_access(person, actor=actor) == 2
    open_sessions = db.session.scalar(db.select(db.func.count(LoginSession.id)).where(
        LoginSession.beneficiary_id == person.id, LoginSession.revoked_at.is_(None)))
    assert open_sessions == 0
    with pytest.raises(AuthenticationFailed):
        accounts.authenticate(person.login_id, code, ip="127.0.0.1")
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="person.access_reset"))


def test_reception_may_reset_access_but_not_at_another_site(factory, site):
    desk = factory.staff(site, StaffRole.RECEPTION)
    person = factory.beneficiary(factory.site(code="AUT"))
    assert code_of(lambda: registration.reset_access(person, actor=Actor.of(desk))) == (
        "unknown_person")
