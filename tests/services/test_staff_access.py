"""Staff act only at their own sites, with the role they hold there (``services/staff_access``),
and see only the people of those sites (``services/people``): one rule per test, no HTTP.

The person of these tests is reception at A, animateur at B and administrator at C; a role
held at one site never counts at another.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal import clock
from portal.extensions import db
from portal.models import AuditEvent, Booking, StaffSiteRole
from portal.models.vocab import BookingStatus, StaffRole
from portal.services import checkin, closing, desk, people, staff_access, vouchers
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound
from portal.services.staff_access import PERMISSIONS, Action
from tests.services.scene import VERIFY, code_of, programme, seats_add_up

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def sites(factory):
    return {name: factory.site(code=f"S{name}", name=f"Lieu {name}") for name in "ABCD"}


@pytest.fixture
def mixed(factory, sites):
    """Reception at A, animateur at B, administrator at C, nothing at D."""
    staff = factory.staff(sites["A"], StaffRole.RECEPTION)
    for name, role in (("B", StaffRole.ANIMATEUR), ("C", StaffRole.ADMIN)):
        staff.roles.append(StaffSiteRole(site_id=sites[name].id, role=role))
    db.session.commit()
    return staff


def today_session(factory, site, **fields):
    return factory.session(site, factory.workshop(price_cheques=1),
                           starts_in=timedelta(minutes=-10), **fields)


# --- the permission table ------------------------------------------------------------------------


def test_each_role_includes_the_one_below_it():
    reception, animateur, admin = (PERMISSIONS[r] for r in
                                   (StaffRole.RECEPTION, StaffRole.ANIMATEUR, StaffRole.ADMIN))
    assert reception < animateur < admin
    assert admin == frozenset(Action)


def test_reception_does_not_revoke_documents_nor_issue_deposit_slips():
    reception = PERMISSIONS[StaffRole.RECEPTION]
    assert Action.REVOKE_DOCUMENT not in reception and Action.DEPOSIT_SLIP not in reception
    assert {Action.CHECK_IN, Action.TAKE_CHEQUES, Action.BOOK_FOR} <= reception


def test_a_role_counts_only_at_the_site_where_it_is_held(mixed, sites):
    a, b, c, d = (sites[n].id for n in "ABCD")
    assert staff_access.allowed_actions(mixed, a) == PERMISSIONS[StaffRole.RECEPTION]
    assert staff_access.allowed_actions(mixed, b) == PERMISSIONS[StaffRole.ANIMATEUR]
    assert staff_access.allowed_actions(mixed, c) == PERMISSIONS[StaffRole.ADMIN]
    assert staff_access.allowed_actions(mixed, d) == frozenset()
    assert not staff_access.can(mixed, Action.REVOKE_DOCUMENT, a)
    assert staff_access.can(mixed, Action.REVOKE_DOCUMENT, b)
    assert not staff_access.can(mixed, Action.REOPEN_SESSION, b)
    assert staff_access.can(mixed, Action.REOPEN_SESSION, c)


def test_require_is_a_404_without_a_role_and_a_403_when_the_role_lacks_the_action(mixed, sites):
    with pytest.raises(NotFound):
        staff_access.require(mixed, Action.SEE_SESSIONS, sites["D"].id)
    with pytest.raises(NotAllowed) as refused:
        staff_access.require(mixed, Action.DEPOSIT_SLIP, sites["A"].id)
    assert refused.value.code == "role_required"
    assert staff_access.require(mixed, Action.DEPOSIT_SLIP, sites["B"].id) is StaffRole.ANIMATEUR


def test_sites_where_lists_only_the_sites_allowing_the_action(mixed, sites):
    assert staff_access.sites_where(mixed, Action.CHECK_IN) == sorted(
        sites[n].id for n in "ABC")
    assert staff_access.sites_where(mixed, Action.DEPOSIT_SLIP) == sorted(
        sites[n].id for n in "BC")
    assert staff_access.sites_where(mixed, Action.REOPEN_SESSION) == [sites["C"].id]


def test_a_network_administrator_acts_everywhere(factory, sites):
    admin = factory.staff(is_network_admin=True)
    for site in sites.values():
        assert staff_access.allowed_actions(admin, site.id) == frozenset(Action)
    assert staff_access.sites_where(admin, Action.DEPOSIT_SLIP) is None


def test_a_disabled_staff_member_may_do_nothing(factory, sites):
    staff = factory.staff(sites["A"], StaffRole.ADMIN, is_active=False)
    session = today_session(factory, sites["A"])
    person = factory.beneficiary(sites["A"])
    assert code_of(lambda: checkin.scan(session, person.login_id,
                                        actor=Actor.of(staff))) == "staff_only"


# --- services check the role at the object's site -------------------------------------------------


def test_reception_at_one_site_closes_there_but_reopens_only_where_admin(factory, mixed, sites):
    actor = Actor.of(mixed)
    at_a = today_session(factory, sites["A"])
    at_c = today_session(factory, sites["C"])
    for session in (at_a, at_c):
        closing.close_session(session, actor=actor, verify_url=VERIFY)
    with pytest.raises(NotAllowed):
        closing.reopen_session(at_a, "Présence oubliée", actor=actor)
    closing.reopen_session(at_c, "Présence oubliée", actor=actor)
    assert [e.object_id for e in db.session.scalars(
        db.select(AuditEvent).filter_by(action="session.reopened"))] == [str(at_c.id)]


def test_nothing_is_done_at_a_site_without_a_role(factory, mixed, sites):
    actor = Actor.of(mixed)
    session = today_session(factory, sites["D"])
    booking = factory.booking(session, factory.beneficiary(sites["D"]))
    programme()
    for call in (lambda: checkin.scan(session, booking.code, actor=actor),
                 lambda: checkin.check_in(booking, actor=actor),
                 lambda: checkin.mark_absent(booking, actor=actor),
                 lambda: checkin.add_walk_in(session, booking.beneficiary, actor=actor,
                                             presented=booking.code),
                 lambda: vouchers.redeem_cheques(booking, "2026620101", actor=actor),
                 lambda: closing.close_session(session, actor=actor, verify_url=VERIFY),
                 lambda: desk.cancel_for(booking, actor=actor)):
        with pytest.raises(NotFound):
            call()
    db.session.expire_all()
    assert db.session.get(Booking, booking.id).status is BookingStatus.BOOKED
    assert db.session.scalars(db.select(AuditEvent)).all() == []


# --- which people a staff member sees -------------------------------------------------------------


def test_staff_see_the_people_of_their_sites_and_those_booked_there(factory, mixed, sites):
    at_home = factory.beneficiary(sites["A"], first_name="Alice")
    elsewhere = factory.beneficiary(sites["D"], first_name="Denise")
    came_here = factory.beneficiary(sites["D"], first_name="Damien")
    factory.booking(factory.session(sites["B"]), came_here)
    nowhere = factory.beneficiary(None, first_name="Nina")
    assert people.can_see(mixed, at_home) and people.can_see(mixed, came_here)
    assert not people.can_see(mixed, elsewhere) and not people.can_see(mixed, nowhere)
    assert {p.first_name for p in people.search(mixed, "")} == {"Alice", "Damien"}
    assert people.search(mixed, elsewhere.login_id) == []


def test_an_anonymised_person_is_nobodys(factory, sites):
    admin = factory.staff(is_network_admin=True)
    person = factory.beneficiary(sites["A"], anonymised_at=clock.now())
    assert not people.can_see(admin, person)


# --- walk-ins and scans: the same rule in the check-in service ------------------------------------


@pytest.fixture
def door(factory, sites):
    """An animateur of site A at today's session of A; Denise belongs to site D only."""
    staff = factory.staff(sites["A"], StaffRole.ANIMATEUR)
    session = today_session(factory, sites["A"], capacity=4)
    denise = factory.beneficiary(sites["D"], first_name="Denise", last_name="Vasseur",
                                 staff_notes="Note de l'autre lieu")
    return staff, session, denise


def test_a_walk_in_by_id_of_someone_of_another_site_is_refused(door):
    staff, session, denise = door
    refused = code_of(lambda: checkin.add_walk_in(session, denise, actor=Actor.of(staff)))
    assert refused == "unknown_person"
    assert db.session.scalars(db.select(Booking)).all() == []
    assert seats_add_up(session) == 0


def test_a_walk_in_of_someone_whose_card_was_scanned_is_added(door):
    staff, session, denise = door
    outcome = checkin.scan(session, denise.login_id_display, actor=Actor.of(staff))
    assert outcome.code == "walk_in_possible" and outcome.person.id == denise.id
    marked = checkin.add_walk_in(session, denise, actor=Actor.of(staff),
                                 presented=denise.login_id_display)
    assert marked.code == "walk_in_added"
    assert seats_add_up(session) == 1
    # Booked here now: one of the site's people.
    assert people.can_see(staff, denise)


def test_another_persons_card_is_no_proof(factory, door, sites):
    staff, session, denise = door
    someone = factory.beneficiary(sites["A"])
    refused = code_of(lambda: checkin.add_walk_in(session, denise, actor=Actor.of(staff),
                                                  presented=someone.login_id))
    assert refused == "unknown_person"
    assert seats_add_up(session) == 0


def test_a_name_typed_at_the_door_finds_only_people_staff_may_see(factory, door, sites):
    staff, session, _denise = door
    neighbour = factory.beneficiary(sites["A"], first_name="Denise", last_name="Vasseur")
    outcome = checkin.scan(session, "denise vasseur", actor=Actor.of(staff))
    assert outcome.code == "choose_person"
    assert [p.id for p in outcome.matches] == [neighbour.id]


def test_a_scan_says_nothing_of_bookings_at_sites_staff_do_not_see(factory, door, sites):
    staff, session, denise = door
    other_site = factory.session(sites["D"], factory.workshop(title="Atelier secret"),
                                 starts_in=timedelta(days=2))
    booking = factory.booking(other_site, denise)
    for raw in (denise.login_id, booking.code):
        outcome = checkin.scan(session, raw, actor=Actor.of(staff))
        assert outcome.code == "walk_in_possible"
        assert outcome.booking is None
    assert db.session.get(Booking, booking.id).status is BookingStatus.BOOKED
