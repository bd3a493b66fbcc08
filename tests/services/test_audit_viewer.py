"""The audit trail viewer (``services/audit_viewer.py``): each filter, the scope of a site
administrator (their sites) and of the network (everything, events of no site too), keyset
pages, events in words, a bounded number of queries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from werkzeug.datastructures import MultiDict

from portal import clock
from portal.extensions import db
from portal.models.vocab import StaffRole
from portal.services import audit_viewer, merging
from portal.services.audit import Actor, record
from portal.services.audit_viewer import PAGE_SIZE, Filters
from portal.services.errors import NotAllowed

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def scene(factory, site):
    other = factory.site(code="LEN", name="Cyberbase de Lens")
    admin = factory.staff(site, StaffRole.ADMIN, full_name="Alice Admin")
    colleague = factory.staff(site, StaffRole.RECEPTION, full_name="Bruno Accueil")
    far = factory.staff(other, StaffRole.ADMIN, full_name="Lina Lens")
    network = factory.staff(is_network_admin=True, full_name="Réseau")
    nadia = factory.beneficiary(site, first_name="Nadia", last_name="Benali")
    paul = factory.beneficiary(other, first_name="Paul", last_name="Durand")
    record(Actor.of(colleague), "booking.created", object_type="beneficiary",
           object_id=nadia.id, site_id=site.id, session=12)
    record(Actor.of(far), "booking.created", object_type="beneficiary", object_id=paul.id,
           site_id=other.id)
    record(Actor.of(nadia), "login.succeeded", object_type="beneficiary", object_id=nadia.id)
    record(Actor.of(admin), "team.role_changed", object_type="staff", object_id=colleague.id,
           site_id=site.id, previous="reception", role="animateur")
    record(Actor.system(), "site.created", object_type="site", object_id=site.id)
    db.session.commit()
    return {"site": site, "other": other, "admin": admin, "colleague": colleague, "far": far,
            "network": network, "nadia": nadia, "paul": paul}


def shown(viewer, **args) -> list[str]:
    rows, _, _ = audit_viewer.events(viewer, Filters.parse(MultiDict(args)))
    return [f"{e.action}:{e.object_id}" for e in rows]


def test_a_site_admin_sees_their_sites_and_the_network_everything(scene):
    mine = shown(scene["admin"])
    assert len(mine) == 2 and all(e.startswith(("booking", "team")) for e in mine)
    assert f"booking.created:{scene['paul'].id}" not in mine
    everything = shown(scene["network"])
    assert len(everything) == 5  # events of no site too (a login, a site created)


def test_a_role_without_see_audit_is_refused(scene):
    with pytest.raises(NotAllowed):
        shown(scene["colleague"])


def test_filters_by_person_id_and_by_name(scene):
    nadia = scene["nadia"]
    assert sorted(shown(scene["network"], personne=str(nadia.id))) == [
        f"booking.created:{nadia.id}", f"login.succeeded:{nadia.id}"]
    assert shown(scene["network"], personne="benali") == shown(scene["network"],
                                                               personne=str(nadia.id))
    assert shown(scene["admin"], personne="Durand") == []  # not a person of their sites


def test_filters_by_staff_action_site_and_dates(scene):
    colleague = scene["colleague"]
    by_staff = shown(scene["admin"], agent=str(colleague.id))
    assert by_staff == [f"team.role_changed:{colleague.id}",
                        f"booking.created:{scene['nadia'].id}"]
    assert shown(scene["network"], action="site.created") == [f"site.created:{scene['site'].id}"]
    assert len(shown(scene["network"], lieu=str(scene["other"].id))) == 1
    assert shown(scene["admin"], lieu=str(scene["other"].id)) == []  # not theirs
    today = clock.today_local()
    assert len(shown(scene["network"], du=today.isoformat(), au=today.isoformat())) == 5
    assert shown(scene["network"], du=(today + timedelta(days=1)).isoformat()) == []
    assert shown(scene["network"], au=(today - timedelta(days=1)).isoformat()) == []


def test_unreadable_filters_are_no_filter(scene):
    assert len(shown(scene["network"], du="31/12", agent="x", lieu="²", avant="-1")) == 5
    assert Filters.parse(MultiDict({"du": "2026-02-30"})).start is None
    assert len(shown(scene["network"], du="0001-01-01", au="9999-12-31")) == 5
    assert Filters.parse(MultiDict({"au": "2026-02-03"})).end == date(2026, 2, 3)


def test_pages_follow_each_other_without_gaps(scene):
    network = scene["network"]
    for n in range(PAGE_SIZE + 3):
        record(Actor.system(), "login.failed", object_type="account", object_id=f"x{n}")
    db.session.commit()
    first, next_before, _ = audit_viewer.events(network, Filters())
    assert len(first) == PAGE_SIZE and next_before == first[-1].id
    second, last, _ = audit_viewer.events(network, Filters(before=next_before))
    assert last is None and len(first) + len(second) == PAGE_SIZE + 3 + 5
    assert {e.id for e in first}.isdisjoint({e.id for e in second})


def test_events_are_said_in_words(scene):
    page = audit_viewer.page(scene["admin"], Filters())
    change = next(v for v in page.events if v.event.action == "team.role_changed")
    assert change.who == "Alice Admin" and change.what == "Rôle changé"
    assert change.on_what == "Membre de l'équipe : Bruno Accueil"
    assert ("previous", "reception") in change.details
    assert change.site == scene["site"].name
    assert [code for code, _ in page.actions] == ["booking.created", "team.role_changed"]


def test_a_page_costs_a_fixed_number_of_queries(scene, count_queries):
    network = scene["network"]

    def cost() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            audit_viewer.page(network, Filters())
        return counter.count

    few = cost()
    for n in range(30):
        person = scene["nadia"] if n % 2 else scene["paul"]
        staff = scene["admin"] if n % 3 else scene["far"]
        record(Actor.of(person), "booking.cancelled", object_type="beneficiary",
               object_id=person.id, site_id=scene["site"].id)
        record(Actor.of(staff), "team.role_changed", object_type="staff",
               object_id=scene["colleague"].id, site_id=scene["site"].id)
    db.session.commit()
    assert cost() == few <= 10


def test_a_merged_record_s_history_is_found_under_the_person_kept(scene, factory, site):
    nadia = scene["nadia"]
    twin = factory.beneficiary(site, first_name="Nadia", last_name="Benali")
    record(Actor.of(scene["colleague"]), "person.updated", object_type="beneficiary",
           object_id=twin.id, site_id=site.id)
    db.session.commit()
    assert f"person.updated:{twin.id}" not in shown(scene["network"], personne=str(nadia.id))
    merging.merge(nadia, twin, take_from_other=[], actor=Actor.of(scene["admin"]))
    db.session.commit()
    assert f"person.updated:{twin.id}" in shown(scene["network"], personne=str(nadia.id))
    assert f"person.updated:{twin.id}" in shown(scene["admin"], personne="benali")
