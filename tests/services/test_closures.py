"""A site's closure days: a day or a period with a label, added and removed by those allowed."""

from __future__ import annotations

from datetime import date

import pytest

from portal.extensions import db
from portal.models import AuditEvent, ClosureDay
from portal.models.vocab import StaffRole
from portal.services import closures
from portal.services.audit import Actor
from portal.services.errors import ServiceError

pytestmark = pytest.mark.usefixtures("frozen")


def test_a_day_and_a_period_are_closed_with_their_label(site, actor):
    closures.add(site, first_day=date(2026, 12, 25), last_day=None, label="Noël", actor=actor)
    closures.add(site, first_day=date(2027, 8, 1), last_day=date(2027, 8, 3),
                 label="Fermeture  estivale", actor=actor)
    days = closures.closed_days(site.id, date(2026, 12, 1), date(2027, 12, 31))
    assert days == {date(2026, 12, 25): "Noël", date(2027, 8, 1): "Fermeture estivale",
                    date(2027, 8, 2): "Fermeture estivale", date(2027, 8, 3): "Fermeture estivale"}
    assert [c.label for c in closures.upcoming(site)] == ["Noël", "Fermeture estivale"]


def test_wrong_input_is_named_and_nothing_is_written(site, actor):
    with pytest.raises(ServiceError) as error:
        closures.add(site, first_day=date(2027, 1, 5), last_day=date(2027, 1, 2), label="",
                     actor=actor)
    assert set(error.value.details["fields"]) == {"label", "last_day"}
    assert db.session.scalar(db.select(db.func.count()).select_from(ClosureDay)) == 0


def test_removing_is_audited_and_only_at_ones_own_site(factory, site, actor):
    closure = closures.add(site, first_day=date(2026, 12, 25), last_day=None, label="Noël",
                           actor=actor)
    other = factory.site()
    with pytest.raises(ServiceError) as error:
        closures.remove(other, closure.id, actor=actor)
    assert error.value.status == 404
    reception = Actor.of(factory.staff(site, StaffRole.RECEPTION))
    with pytest.raises(ServiceError) as error:
        closures.remove(site, closure.id, actor=reception)
    assert error.value.status == 403
    closures.remove(site, closure.id, actor=actor)
    assert closures.of_site(site) == []
    actions = db.session.scalars(db.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["closure.added", "closure.removed"]
