"""Benchmark data: a realistic network at a chosen scale (``flask --app portal bench-data``).

Scale 1 is a department: 50 sites, 100 000 beneficiaries, 30 000 sessions over a year (the past
months, today at every site, the coming weeks), 1 000 000 bookings with waiting lists,
cancellations and attendance, APTIC cheques (redeemed with their receipt, or unused), issued
documents, individual help, staff at every site. Scale 0.01 is a hundredth of every count (at
least two sites). ``plan.plan_for`` gives the exact counts.

How it is written: rows are generated and inserted chunk by chunk with SQLAlchemy Core
(``writer.Writer``: executemany of a few thousand rows, a commit per chunk, parents before
children), never one ORM object per row; memory stays flat with the scale. Ids are given by the
generator (from the tables' current maximum), and PostgreSQL's sequences are moved past them at
the end. A run that fails half-way leaves the chunks already committed: start again from an
empty database.

Consistency: every denormalised value follows the rows — seats taken are the bookings holding a
seat and never exceed the capacity, waiting lists are numbered from 1 and exist only in a full
upcoming session, closed sessions have no one booked or waiting any more, a cheque is redeemed
once for one service, valid in its programme's year, people's folded search columns
(``folding``), document numbers gap-free per site, kind and year with their
``document_counter``, ``last_activity_at`` from each person's bookings and help.

Documents are rows with their number and snapshot; their bytes are ONE tiny valid placeholder
PDF shared by every row (``network.PLACEHOLDER_PDF``): rendering a million PDFs would measure
WeasyPrint, not the portal.

Every generated account (staff and the beneficiaries who have a password, 40 %) logs in with
``BENCH_PASSWORD``, hashed once. The same seed on the same day gives the same network.
"""

from __future__ import annotations

import random
import resource
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, func, literal, select, update

from portal.benchdata import accompaniments, catalogue, documents, people, sessions, vouchers
from portal.benchdata.network import Network
from portal.benchdata.plan import Plan, plan_for
from portal.benchdata.writer import Writer
from portal.clock import now
from portal.extensions import db
from portal.models import (
    Accompaniment,
    Beneficiary,
    Booking,
    Site,
    StaffMember,
    StaffSiteRole,
    WorkshopSession,
)
from portal.models.types import UTCDateTime
from portal.models.vocab import StaffRole
from portal.services import passwords
from portal.services.audit import Actor, record

#: the password of every generated account (benchmark databases only; refused in production).
BENCH_PASSWORD = "banc d'essai du réseau numérique"  # noqa: S105

__all__ = ["BENCH_PASSWORD", "Plan", "generate", "is_empty", "plan_for", "sample_accounts"]


def is_empty() -> bool:
    """No site, beneficiary nor session yet (other tables may hold an administrator…)."""
    return all(db.session.scalar(select(model.id).limit(1)) is None
               for model in (Site, Beneficiary, WorkshopSession))


def generate(scale: float, *, seed: int = 1, echo: Callable[[str], None] = print) -> Plan:
    """Write the network of ``scale`` into the (empty) database; returns its plan."""
    plan = plan_for(scale)
    started = time.perf_counter()
    password_hash = passwords.hash_password(BENCH_PASSWORD)
    db.session.remove()
    with db.engine.connect() as connection:
        writer = Writer(connection, echo)
        net = Network(plan=plan, rng=random.Random(seed), at=now(), writer=writer,
                      password_hash=password_hash)
        people.write_sites(net)
        people.write_staff(net)
        people.write_beneficiaries(net)
        catalogue.write_workshops(net)
        sessions.write_sessions(net)
        accompaniments.write_accompaniments(net)
        vouchers.write_unused(net)
        documents.write_counters(net)
        writer.phase("dernière activité des personnes")
        _last_activity(connection)
        writer.end_phase()
        writer.reset_sequences()
        writer.gather_statistics()
    record(Actor.system(), "bench_data.generated", scale=scale, seed=seed,
           sites=plan.sites, beneficiaries=plan.beneficiaries, sessions=plan.sessions,
           bookings=plan.bookings)
    db.session.commit()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    echo(f"Réseau écrit en {time.perf_counter() - started:.1f} s ; "
         f"mémoire résidente maximale : {peak_mb:.0f} Mo.")
    return plan


def sample_accounts() -> list[tuple[str, str]]:
    """One account of each kind to log in with (``BENCH_PASSWORD``): label, identifier."""
    accounts: list[tuple[str, str]] = []
    admin = db.session.scalar(select(StaffMember.email).where(StaffMember.is_network_admin)
                              .order_by(StaffMember.id).limit(1))
    if admin:
        accounts.append(("Administrateur du réseau", admin))
    for role, label in ((StaffRole.ADMIN, "Administrateur du premier lieu"),
                        (StaffRole.ANIMATEUR, "Animateur du premier lieu"),
                        (StaffRole.RECEPTION, "Accueil du premier lieu")):
        email = db.session.scalar(
            select(StaffMember.email).join(StaffSiteRole).where(StaffSiteRole.role == role)
            .order_by(StaffSiteRole.site_id, StaffMember.id).limit(1))
        if email:
            accounts.append((label, email))
    person = db.session.scalar(select(Beneficiary.login_id)
                               .where(Beneficiary.password_hash.is_not(None))
                               .order_by(Beneficiary.id).limit(1))
    if person:
        accounts.append(("Bénéficiaire (identifiant)", person))
    return accounts


def _last_activity(connection: Connection) -> None:
    """Each person's last activity: their latest booking change, or later help."""
    person = Beneficiary.__table__
    booking = Booking.__table__
    helped = Accompaniment.__table__
    last_booking = (select(func.max(booking.c.status_changed_at))
                    .where(booking.c.beneficiary_id == person.c.id).scalar_subquery())
    connection.execute(update(person).values(last_activity_at=last_booking))
    last_help = (select(func.max(helped.c.started_at))
                 .where(helped.c.beneficiary_id == person.c.id).scalar_subquery())
    epoch = literal(datetime(1900, 1, 1, tzinfo=UTC), UTCDateTime())
    connection.execute(update(person).values(last_activity_at=last_help)
                       .where(last_help > func.coalesce(person.c.last_activity_at, epoch)))
    connection.commit()
