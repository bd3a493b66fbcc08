"""The catalogue's workshops (``services/workshops.py``): checked fields, a title unique per
site among active workshops, archive rules, the audit of what changed, who may act where."""

from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from portal.models import AuditEvent, StaffSiteRole, Workshop
from portal.models.vocab import AdminSubtheme, SessionStatus, StaffRole, Theme
from portal.services import catalogue, workshops
from portal.services.audit import Actor
from portal.services.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import NETWORK, WorkshopInput

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def other_site(factory):
    return factory.site(code="LEN", name="Cyberbase de Lens")


def form(where, **changes) -> WorkshopInput:
    values = {"title": "Premiers pas sur la tablette",
              "description": "Allumer la tablette.\n\nCe que l'on fera :\n- toucher\n- glisser",
              "themes": [Theme.EQUIPMENT_HANDLING.value], "level": "beginner",
              "equipment": "tablet", "duration_minutes": "90", "price_cheques": "2",
              "objectives": "Allumer une tablette\nOuvrir une application",
              "site": str(where.id)}
    values.update(changes)
    return WorkshopInput(**values)


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def test_a_workshop_is_created_with_its_themes_and_the_audit_lists_its_fields(site, actor):
    workshop = workshops.create(form(site, themes=["admin_procedures", "email"],
                                     subthemes=["housing"]), actor=actor)
    db.session.expire_all()
    stored = db.session.get(Workshop, workshop.id)
    assert stored.site_id == site.id and stored.duration_minutes == 90
    assert set(stored.themes) == {Theme.EMAIL, Theme.ADMIN_PROCEDURES}
    assert stored.subthemes == [AdminSubtheme.HOUSING]
    (event,) = events("workshop.created")
    assert event.object_id == str(workshop.id) and event.site_id == site.id
    assert event.details["changes"]["title"] == {"before": None,
                                                 "after": "Premiers pas sur la tablette"}


def test_every_bad_field_is_named_and_nothing_is_written(site, actor):
    bad = form(site, title="  ", themes=[], level="expert", equipment="fax",
               duration_minutes="3", price_cheques="21", description="a\x07b",
               objectives="x" * (workshops.OBJECTIVES_MAX + 1), site="")
    with pytest.raises(ValidationFailed) as failure:
        workshops.create(bad, actor=actor)
    assert failure.value.code == "workshop_invalid"
    assert set(failure.value.details["fields"]) == {
        "title", "themes", "level", "equipment", "duration_minutes", "price_cheques",
        "description", "objectives", "site"}
    assert db.session.scalar(db.select(db.func.count(Workshop.id))) == 0
    assert events("workshop.created") == []


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": "T" * 121}, "title"),
    ({"title": "Tab\x07lette"}, "title"),
    ({"themes": ["unknown"]}, "themes"),
    ({"subthemes": ["housing"]}, "subthemes"),  # without the administrative theme
    ({"duration_minutes": "1e3"}, "duration_minutes"),
    ({"price_cheques": "-1"}, "price_cheques"),
    ({"site": NETWORK}, "site"),  # only a network administrator
])
def test_one_bad_field(site, actor, changes, field):
    with pytest.raises(ValidationFailed) as failure:
        workshops.create(form(site, **changes), actor=actor)
    assert list(failure.value.details["fields"]) == [field]


def test_spaces_and_line_ends_are_cleaned(site, actor):
    workshop = workshops.create(form(site, title="  Premiers   pas  ",
                                     description="Un\r\nDeux  \r\n"), actor=actor)
    assert workshop.title == "Premiers pas" and workshop.description == "Un\nDeux"


def test_a_title_is_unique_per_site_among_active_workshops(site, other_site, actor, factory):
    workshops.create(form(site), actor=actor)
    with pytest.raises(ValidationFailed) as failure:
        workshops.create(form(site, title="PREMIERS pas sur la TABLETTE"), actor=actor)
    assert failure.value.code == "workshop_title_taken"
    assert "title" in failure.value.details["fields"]
    # the same title at another site, or beside an archived one, is fine
    admin = factory.staff(is_network_admin=True)
    workshops.create(form(other_site), actor=Actor.of(admin))
    first = db.session.scalars(db.select(Workshop).where(Workshop.site_id == site.id)).one()
    workshops.archive(first, actor=actor)
    again = workshops.create(form(site), actor=actor)
    with pytest.raises(Conflict) as refused:
        workshops.restore(first, actor=actor)
    assert refused.value.code == "workshop_title_taken"
    assert again.is_active and not first.is_active


def test_an_edit_audits_only_the_changed_fields(site, actor):
    workshop = workshops.create(form(site), actor=actor)
    changed = workshops.update(workshop, form(site, price_cheques="0",
                                              themes=["equipment_handling", "email"]),
                               actor=actor)
    assert changed == {"price_cheques": {"before": 2, "after": 0},
                       "themes": {"before": ["equipment_handling"],
                                  "after": ["equipment_handling", "email"]}}
    (event,) = events("workshop.updated")
    assert event.details["changes"] == changed
    assert workshops.update(workshop, form(site, price_cheques="0",
                                           themes=["equipment_handling", "email"]),
                            actor=actor) == {}
    assert len(events("workshop.updated")) == 1


def test_archiving_is_refused_while_sessions_are_upcoming(site, actor, factory):
    workshop = workshops.create(form(site), actor=actor)
    factory.session(site, workshop, starts_in=timedelta(days=-3))  # past: kept
    factory.session(site, workshop, starts_in=timedelta(days=3))
    factory.session(site, workshop, starts_in=timedelta(days=4))
    factory.session(site, workshop, starts_in=timedelta(days=5), status=SessionStatus.CANCELLED)
    with pytest.raises(Conflict) as refused:
        workshops.archive(workshop, actor=actor)
    assert refused.value.code == "workshop_has_upcoming_sessions"
    assert refused.value.details["upcoming"] == 2 and "2 séances" in refused.value.message
    assert workshop.is_active and events("workshop.archived") == []


def test_an_archived_workshop_keeps_its_sessions_and_leaves_the_offer(site, actor, factory):
    workshop = workshops.create(form(site), actor=actor)
    past = factory.session(site, workshop, starts_in=timedelta(days=-3))
    workshops.archive(workshop, actor=actor)
    assert not db.session.get(Workshop, workshop.id).is_active
    assert db.session.get(type(past), past.id).workshop_id == workshop.id
    assert workshop not in workshops.schedulable(site.id)
    assert workshop in workshops.listing(_staff(actor), archived=True)
    (event,) = events("workshop.archived")
    assert event.details["changes"] == {"is_active": {"before": True, "after": False}}
    with pytest.raises(Conflict):
        workshops.archive(workshop, actor=actor)
    workshops.restore(workshop, actor=actor)
    assert workshop.is_active and len(events("workshop.restored")) == 1


def test_find_a_workshop_hides_a_session_of_an_archived_workshop(site, actor, factory):
    workshop = workshops.create(form(site), actor=actor)
    session = factory.session(site, workshop, starts_in=timedelta(days=3))
    assert session in catalogue.search(catalogue.SearchFilters())
    session.status = SessionStatus.CANCELLED  # cancelled first, as archiving asks
    db.session.commit()
    workshops.archive(workshop, actor=actor)
    session.status = SessionStatus.SCHEDULED  # even if it were still scheduled
    db.session.commit()
    assert session not in catalogue.search(catalogue.SearchFilters())


def _staff(actor):
    from portal.services.staff_access import staff_of
    return staff_of(actor)


# --- who may act where --------------------------------------------------------------------------


@pytest.fixture
def mixed(factory, site, other_site):
    """Reception at Méricourt, animateur at Lens."""
    staff = factory.staff(site, StaffRole.RECEPTION)
    staff.roles.append(StaffSiteRole(site_id=other_site.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    return staff


def test_reception_sees_but_does_not_edit_and_a_role_elsewhere_does_not_count(
        site, other_site, actor, mixed, factory):
    here = workshops.create(form(site), actor=actor)
    elsewhere_site = factory.site(code="ARR", name="Arras")
    admin = Actor.of(factory.staff(is_network_admin=True))
    elsewhere = workshops.create(form(elsewhere_site), actor=admin)
    network = workshops.create(form(site, site=NETWORK, title="Du réseau"), actor=admin)
    mixed_actor = Actor.of(mixed)
    assert workshops.workshop_for(mixed, here.id, Action.SEE_SESSIONS) is here
    with pytest.raises(NotAllowed):
        workshops.workshop_for(mixed, here.id, Action.EDIT_CATALOGUE)
    with pytest.raises(NotAllowed):
        workshops.update(here, form(site, title="Autre"), actor=mixed_actor)
    with pytest.raises(NotAllowed):
        workshops.create(form(site, title="Autre"), actor=mixed_actor)
    with pytest.raises(NotFound):
        workshops.workshop_for(mixed, elsewhere.id, Action.SEE_SESSIONS)
    # the network's workshop: seen by all, edited by network administrators only
    assert workshops.workshop_for(mixed, network.id, Action.SEE_SESSIONS) is network
    with pytest.raises(NotAllowed):
        workshops.archive(network, actor=mixed_actor)
    # animateur at Lens: creates there
    created = workshops.create(form(other_site), actor=mixed_actor)
    assert created.site_id == other_site.id
    listed = workshops.listing(mixed)
    assert {here.id, network.id, created.id} == {w.id for w in listed}
    assert [w.title for w in workshops.listing(mixed, text="reseau")] == ["Du réseau"]
    assert workshops.site_choices(mixed) == [(str(other_site.id), other_site.name)]


# --- under contention ----------------------------------------------------------------------------


def test_ten_people_saving_the_same_title_at_once_create_one_workshop(app, site, actor):
    from tests.services.test_checkin_races import race

    def create_once(_n: int) -> str:
        workshops.create(form(site, title="Atelier du samedi"), actor=actor)
        return "created"

    results = race(app, list(range(10)), create_once)
    assert results == {"created": 1, "workshop_title_taken": 9}
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Workshop.id))) == 1
    assert len(events("workshop.created")) == 1
