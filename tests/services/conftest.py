"""Fixtures of the check-in service tests (a module opts in with ``usefixtures("frozen")``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from portal import clock
from portal.models import ChequeProgramme, Site, StaffMember
from portal.models.vocab import StaffRole
from portal.services.audit import Actor
from tests.services.scene import NOW, programme


@pytest.fixture
def frozen() -> Iterator[datetime]:
    clock.freeze(NOW)
    yield NOW
    clock.unfreeze()


@pytest.fixture
def site(factory) -> Site:
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def staff(factory, site) -> StaffMember:
    return factory.staff(site, StaffRole.ANIMATEUR, full_name="Claire Martin")


@pytest.fixture
def actor(staff) -> Actor:
    return Actor.of(staff)


@pytest.fixture
def aptic(app) -> ChequeProgramme:
    return programme()
