"""Individual help (``services/accompaniments.py``) and the cheques that pay it, one rule per
test (no HTTP). The clock is frozen on Thursday 26 November 2026, 14:00 Paris."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from portal.extensions import db
from portal.models import Accompaniment, AuditEvent, Cheque
from portal.models.vocab import (
    AdminSubtheme,
    DocumentKind,
    Gender,
    PlaceType,
    SocialStatus,
    StaffRole,
    Theme,
)
from portal.services import accompaniments, vouchers
from portal.services.accompaniments import Filters, HelpInput
from portal.services.audit import Actor
from portal.services.errors import ServiceError
from tests.services.scene import code_of, fresh
from tests.services.test_checkin_races import race

pytestmark = pytest.mark.usefixtures("frozen")


def form(where, **changes) -> HelpInput:
    values = {"site": str(where.id), "day": "2026-11-26", "hour": "10:30", "duration": "30",
              "themes": ["email"]}
    values.update(changes)
    return HelpInput(**values)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action)
                                   .order_by(AuditEvent.id)))


def fields_of(call) -> dict[str, str]:
    with pytest.raises(ServiceError) as error:
        call()
    assert error.value.code == "help_invalid"
    return error.value.details["fields"]


def count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Accompaniment))


# --- recording ---------------------------------------------------------------------------------


def test_help_for_a_person_is_recorded_with_its_themes_and_audited(site, staff, actor,
                                                                    factory):
    person = factory.beneficiary(site)
    help_ = accompaniments.record(form(site, person=str(person.id), duration="45",
                                       themes=["admin_procedures", "email"],
                                       subthemes=["housing"], equipment="phone",
                                       place="home", autonomy="partly", referred="1",
                                       referred_to="CCAS de Méricourt",
                                       notes="Dossier de la CAF"), actor=actor)
    help_ = fresh(help_)
    assert help_.beneficiary_id == person.id and help_.staff_id == staff.id
    assert help_.started_at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert help_.duration_minutes == 45
    assert set(help_.themes) == {Theme.EMAIL, Theme.ADMIN_PROCEDURES}
    assert help_.subthemes == [AdminSubtheme.HOUSING]
    assert help_.place_type is PlaceType.HOME and help_.referred
    assert help_.referred_to == "CCAS de Méricourt"
    assert help_.summary == "E-mail, Aide aux démarches administratives"
    [event] = events("help.recorded")
    assert event.object_id == str(help_.id) and event.site_id == site.id
    assert event.details["changes"]["themes"]["after"] == ["email", "admin_procedures"]
    assert "Dossier" not in str(event.details)  # the note itself is not copied to the trail


def test_anonymous_help_keeps_only_the_attributes_the_model_allows(site, actor):
    help_ = accompaniments.record(form(site, gender="female", age_bracket="60-69",
                                       social_status="retired", commune=" Méricourt ",
                                       postcode="62 680"), actor=actor)
    help_ = fresh(help_)
    assert help_.beneficiary_id is None
    assert (help_.gender, help_.age_bracket, help_.social_status) == (
        Gender.FEMALE, "60-69", SocialStatus.RETIRED)
    assert (help_.commune, help_.postcode) == ("Méricourt", "62680")


def test_a_named_person_carries_no_anonymous_attributes(site, actor, factory):
    person = factory.beneficiary(site)
    help_ = accompaniments.record(form(site, person=str(person.id), gender="male",
                                       commune="Lens"), actor=actor)
    assert help_.gender is None and help_.commune is None


def test_the_defaults_are_today_thirty_minutes_on_site_on_a_computer(site, staff):
    data = HelpInput.defaults(staff)
    assert (data.day, data.hour, data.duration) == ("2026-11-26", "14:00", "30")
    assert (data.place, data.equipment, data.site) == ("on_site", "computer", str(site.id))


@pytest.mark.parametrize(("changes", "field"), [
    ({"themes": []}, "themes"),
    ({"themes": ["cooking"]}, "themes"),
    ({"subthemes": ["housing"]}, "subthemes"),  # without "Aide aux démarches administratives"
    ({"subthemes": ["nope"], "themes": ["admin_procedures"]}, "subthemes"),
    ({"day": "2026-11-27"}, "day"),  # tomorrow
    ({"day": "2024-11-26"}, "day"),
    ({"day": "0001-01-01"}, "day"),
    ({"day": "9999-12-31"}, "day"),
    ({"day": "26/11/2026"}, "day"),
    ({"hour": "25:00"}, "hour"),
    ({"duration": "0"}, "duration"),
    ({"duration": "1441"}, "duration"),
    ({"duration": "autre", "duration_other": ""}, "duration_other"),
    ({"duration": "autre", "duration_other": "2000"}, "duration_other"),
    ({"equipment": "fax"}, "equipment"),
    ({"place": "moon"}, "place"),
    ({"autonomy": "total"}, "autonomy"),
    ({"referred_to": "Pôle emploi"}, "referred_to"),  # not said to be oriented
    ({"referred": "2"}, "referred"),
    ({"notes": "x" * 2001}, "notes"),
    ({"gender": "other"}, "gender"),
    ({"age_bracket": "30-35"}, "age_bracket"),
    ({"social_status": "rich"}, "social_status"),
    ({"postcode": "6268"}, "postcode"),
    ({"commune": "Lens\x00"}, "commune"),
    ({"person": "999999"}, "person"),
    ({"site": ""}, "site"),
])
def test_each_bad_field_is_named_and_nothing_is_written(site, actor, changes, field):
    assert field in fields_of(lambda: accompaniments.record(form(site, **changes),
                                                            actor=actor))
    assert count() == 0 and events("help.recorded") == []


def test_another_duration_and_the_day_itself_are_accepted(site, actor):
    help_ = accompaniments.record(form(site, duration="autre", duration_other="20",
                                       day="2026-11-26", hour=""), actor=actor)
    assert help_.duration_minutes == 20


def test_a_person_the_staff_member_may_not_see_is_unknown(site, actor, factory):
    stranger = factory.beneficiary(factory.site())
    assert "person" in fields_of(lambda: accompaniments.record(
        form(site, person=str(stranger.id)), actor=actor))


def test_help_is_recorded_only_at_a_site_of_the_staff_member(site, actor, factory):
    elsewhere = factory.site()
    assert code_of(lambda: accompaniments.record(form(elsewhere), actor=actor)) == "not_found"
    assert count() == 0


# --- editing and deleting: the author or an administrator ------------------------------------


@pytest.fixture
def colleague(factory, site):
    return factory.staff(site, StaffRole.RECEPTION)


@pytest.fixture
def admin(factory, site):
    return factory.staff(site, StaffRole.ADMIN)


def test_an_edit_audits_only_the_changed_fields(site, actor):
    help_ = accompaniments.record(form(site), actor=actor)
    changed = accompaniments.update(help_, form(site, duration="60", notes="Rappeler"),
                                    actor=actor)
    assert set(changed) == {"duration_minutes", "note_length"}
    [event] = events("help.updated")
    assert event.details["changes"]["duration_minutes"] == {"before": 30, "after": 60}
    assert fresh(help_).updated_at is not None
    assert accompaniments.update(help_, form(site, duration="60", notes="Rappeler"),
                                 actor=actor) == {}
    assert len(events("help.updated")) == 1


def test_only_the_author_or_an_administrator_edits_or_deletes(site, actor, colleague, admin):
    help_ = accompaniments.record(form(site), actor=actor)
    other = Actor.of(colleague)
    assert code_of(lambda: accompaniments.update(help_, form(site, duration="60"),
                                                 actor=other)) == "help_not_yours"
    assert code_of(lambda: accompaniments.delete(help_, actor=other)) == "help_not_yours"
    staff = db.session.get(type(colleague), colleague.id)
    assert not accompaniments.may_change(staff, help_)
    assert accompaniments.update(help_, form(site, duration="60"), actor=Actor.of(admin))
    accompaniments.delete(help_, actor=Actor.of(admin))
    assert count() == 0
    [event] = events("help.deleted")
    assert event.details["deleted"]["duration_minutes"] == 60


def test_another_sites_help_does_not_exist_for_a_staff_member(site, actor, factory):
    help_ = accompaniments.record(form(site), actor=actor)
    outsider = factory.staff(factory.site(), StaffRole.ADMIN)
    assert code_of(lambda: accompaniments.help_for(outsider, help_.id)) == "not_found"
    assert code_of(lambda: accompaniments.delete(help_, actor=Actor.of(outsider))) \
        == "not_found"


# --- cheques pay an individual help --------------------------------------------------------------


def test_cheques_pay_an_individual_help_with_a_receipt(site, actor, aptic, factory):
    person = factory.beneficiary(site)
    help_ = accompaniments.record(form(site, person=str(person.id), duration="120"),
                                  actor=actor)
    done = vouchers.redeem_cheques(help_, "2026-6201-01", actor=actor)
    [cheque] = done.cheques
    assert cheque.accompaniment_id == help_.id and cheque.booking_id is None
    receipt = done.receipt
    assert receipt is not None and receipt.kind is DocumentKind.RECEIPT
    assert receipt.beneficiary_id == person.id and receipt.pdf.startswith(b"%PDF-")
    assert receipt.snapshot["service"]["kind"] == "Accompagnement individuel"
    assert receipt.snapshot["service"]["title"] == "E-mail"
    assert vouchers.receipts_of(help_) == [receipt]
    [event] = events("cheques.redeemed")
    assert event.object_type == "accompaniment" and event.object_id == str(help_.id)
    payment = vouchers.help_payment(help_)
    assert (payment.price, payment.paid, payment.owed) == (1, 1, 0)


def test_a_used_cheque_is_refused_for_an_individual_help(site, actor, aptic):
    first = accompaniments.record(form(site), actor=actor)
    second = accompaniments.record(form(site), actor=actor)
    vouchers.redeem_cheques(first, "2026620101", actor=actor)
    assert code_of(lambda: vouchers.redeem_cheques(second, "2026620101", actor=actor)) \
        == "cheque_already_redeemed"
    assert vouchers.cheques_taken(second) == 0


def test_an_individual_help_takes_one_cheque_per_started_two_hours(site, actor, aptic):
    help_ = accompaniments.record(form(site, duration="autre", duration_other="150"),
                                  actor=actor)
    assert vouchers.help_price(help_) == 2
    error_code = code_of(lambda: vouchers.redeem_cheques(
        help_, "2026620101 2026620102 2026620103", actor=actor))
    assert error_code == "cheques_too_many"
    assert len(vouchers.redeem_cheques(help_, "2026620101 2026620102",
                                       actor=actor).cheques) == 2


def test_a_help_paid_by_cheques_is_not_deleted_and_keeps_its_person(site, actor, aptic,
                                                                     factory):
    person = factory.beneficiary(site)
    help_ = accompaniments.record(form(site, person=str(person.id)), actor=actor)
    vouchers.redeem_cheques(help_, "2026620101", actor=actor)
    assert code_of(lambda: accompaniments.delete(help_, actor=actor)) == "help_paid"
    assert count() == 1 and events("help.deleted") == []
    assert code_of(lambda: accompaniments.update(help_, form(site), actor=actor)) \
        == "help_paid_person_fixed"
    assert db.session.scalar(db.select(db.func.count()).select_from(Cheque)) == 1


# --- reading -----------------------------------------------------------------------------------


def test_the_list_filters_pages_and_totals(site, actor, staff, factory):
    person = factory.beneficiary(site)
    accompaniments.record(form(site, person=str(person.id), duration="60"), actor=actor)
    accompaniments.record(form(site, day="2026-11-20", place="remote",
                               themes=["admin_procedures"]), actor=actor)
    accompaniments.record(form(site, day="2026-11-02"), actor=actor)
    everything = accompaniments.listing(staff, Filters(), site.id)
    assert (everything.count, everything.minutes, everything.people, everything.anonymous) \
        == (3, 120, 1, 2)
    assert [h.started_at.day for h in everything.items] == [26, 20, 2]
    assert accompaniments.listing(staff, Filters(place=PlaceType.REMOTE), site.id).count == 1
    assert accompaniments.listing(staff, Filters(theme=Theme.ADMIN_PROCEDURES),
                                  site.id).count == 1
    assert accompaniments.listing(staff, Filters(person_id=person.id), site.id).count == 1
    period = Filters.parse({"du": "2026-11-15", "au": "2026-11-25"})
    assert accompaniments.listing(staff, period, site.id).count == 1
    assert accompaniments.listing(staff, Filters(staff_id=staff.id + 99), site.id).count == 0
    far = Filters.parse({"du": "0001-01-01", "au": "9999-12-31"})
    assert (far.start, far.end) == (None, None)
    assert accompaniments.listing(staff, far, site.id).count == 3


def test_a_persons_history_shows_only_the_sites_of_the_staff_member(site, actor, factory):
    person = factory.beneficiary(site)
    mine = accompaniments.record(form(site, person=str(person.id)), actor=actor)
    elsewhere = factory.site()
    other = factory.staff(elsewhere, StaffRole.ANIMATEUR)
    other_person_ok = factory.booking(factory.session(elsewhere), person)
    assert other_person_ok is not None
    accompaniments.record(form(elsewhere, person=str(person.id)), actor=Actor.of(other))
    staff = db.session.get(type(other), actor.staff_id)
    assert [h.id for h in accompaniments.history(staff, person)] == [mine.id]


def test_ten_devices_taking_cheques_for_one_help_take_only_what_it_costs(app, site, actor,
                                                                         aptic):
    """The help's row is locked first, as a booking's: one cheque for a two-hour help."""
    help_id = accompaniments.record(form(site, duration="120"), actor=actor).id

    def redeem(n: int) -> str:
        vouchers.redeem_cheques(db.session.get(Accompaniment, help_id), str(2026620100 + n),
                                actor=actor)
        return "redeemed"

    results = race(app, list(range(10)), redeem)
    assert results == Counter({"redeemed": 1, "cheques_too_many": 9})
    assert db.session.scalar(db.select(db.func.count()).select_from(Cheque)) == 1
