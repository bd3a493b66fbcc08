"""The scene the bench's clients work on, set up in an app context before the server starts.

It does not depend on how the data was generated: it picks the busiest site and adds what the
scenarios need (accounts with a known password, today's sessions, bookable ones, cheques).
Only ids and codes leave this module: no ORM object crosses into the load threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select

from portal import clock
from portal.extensions import db
from portal.models import (
    Beneficiary,
    Booking,
    Document,
    Site,
    StaffMember,
    StaffSiteRole,
    Workshop,
    WorkshopSession,
)
from portal.models.vocab import BookingStatus, DocumentKind, SessionStatus, StaffRole
from portal.models.vouchers import ChequeProgramme
from portal.services import passwords
from portal.services.codes import random_code

PASSWORD = "banc-de-mesure-2026"
ROSTER_SIZE = 30
BENEFICIARIES = 20
BOOKABLE_SESSIONS = 3


@dataclass
class Scene:
    site_id: int
    staff: dict[str, str]  # role value -> e-mail
    beneficiaries: list[str]  # login ids
    checkin_session: int
    checkin_codes: list[str]
    checkin_bookings: list[int]
    closing_session: int
    bookable_sessions: list[int]
    cheque_session: int
    cheque_bookings: list[int]
    cheque_programme: int
    certificate_documents: list[int]
    year: int
    password: str = PASSWORD
    walk_in_people: list[int] = field(default_factory=list)


def _busiest_site() -> Site:
    counts = (select(WorkshopSession.site_id, func.count().label("n"))
              .group_by(WorkshopSession.site_id).order_by(func.count().desc()).limit(1))
    row = db.session.execute(counts).first()
    site = db.session.get(Site, row.site_id) if row else None
    if site is None:
        site = db.session.scalars(select(Site).order_by(Site.id)).first()
    if site is None:
        raise SystemExit("No site in the database: load data first.")
    return site


def _people(site: Site, count: int, password_hash: str, tag: str) -> list[Beneficiary]:
    """Active people of the site, the ones with most bookings first; created when missing."""
    most = (select(Beneficiary)
            .outerjoin(Booking, Booking.beneficiary_id == Beneficiary.id)
            .where(Beneficiary.home_site_id == site.id, Beneficiary.anonymised_at.is_(None),
                   Beneficiary.is_active.is_(True))
            .group_by(Beneficiary.id).order_by(func.count(Booking.id).desc(), Beneficiary.id)
            .limit(count))
    people = list(db.session.scalars(most))
    for n in range(len(people), count):
        person = Beneficiary(first_name="Mesure", last_name=f"{tag} {n}",
                             login_id=f"Z{tag}{n:03d}"[:12], password_hash=password_hash,
                             home_site_id=site.id)
        db.session.add(person)
        people.append(person)
    for person in people:
        person.password_hash = password_hash
    db.session.flush()
    return people


def _session(site: Site, workshop: Workshop, starts_in: timedelta, capacity: int
             ) -> WorkshopSession:
    start = clock.now().replace(microsecond=0) + starts_in
    session = WorkshopSession(site_id=site.id, workshop_id=workshop.id, starts_at=start,
                              ends_at=start + timedelta(hours=2), capacity=capacity,
                              room="Salle de mesure")
    db.session.add(session)
    db.session.flush()
    return session


def _book(session: WorkshopSession, people: list[Beneficiary],
          status: BookingStatus = BookingStatus.BOOKED) -> list[Booking]:
    made = []
    for person in people:
        booking = Booking(session_id=session.id, beneficiary_id=person.id, status=status,
                          code=random_code(8))
        if status is BookingStatus.PRESENT:
            booking.checked_in_at = clock.now()
        session.seats_taken += 1
        db.session.add(booking)
        made.append(booking)
    db.session.flush()
    return made


def set_up(cheques: int) -> Scene:
    """Add the scene to the database of the current app context; commit; return its ids."""
    site = _busiest_site()
    password_hash = passwords.hash_password(PASSWORD)
    staff = {}
    for role in StaffRole:
        email = f"mesure.{role.value}@example.org"
        member = db.session.scalars(select(StaffMember).filter_by(email=email)).first()
        if member is None:
            member = StaffMember(email=email, full_name=f"Mesure {role.value}",
                                 password_hash=password_hash)
            member.roles.append(StaffSiteRole(site_id=site.id, role=role))
            db.session.add(member)
        staff[role.value] = email
    network_email = "mesure.reseau@example.org"
    if db.session.scalars(select(StaffMember).filter_by(email=network_email)).first() is None:
        db.session.add(StaffMember(email=network_email, full_name="Mesure réseau",
                                   password_hash=password_hash, is_network_admin=True))
    staff["network"] = network_email
    beneficiaries = _people(site, BENEFICIARIES, password_hash, "B")
    crowd = _people(site, ROSTER_SIZE * 2 + cheques, password_hash, "C")
    workshop = Workshop(site_id=site.id, title="Atelier de mesure", duration_minutes=120,
                        price_cheques=1, grants_attestation=True)
    db.session.add(workshop)
    db.session.flush()

    checkin = _session(site, workshop, timedelta(minutes=-10), ROSTER_SIZE + 10)
    roster = _book(checkin, crowd[:ROSTER_SIZE])
    closing = _session(site, workshop, timedelta(hours=-2, minutes=-5), ROSTER_SIZE + 10)
    half = ROSTER_SIZE * 2 // 3
    _book(closing, crowd[ROSTER_SIZE:ROSTER_SIZE + half], BookingStatus.PRESENT)
    _book(closing, crowd[ROSTER_SIZE + half:ROSTER_SIZE * 2])
    bookable = [_session(site, workshop, timedelta(days=4 + n), BENEFICIARIES + 10)
                for n in range(BOOKABLE_SESSIONS)]
    cheque_session = _session(site, workshop, timedelta(minutes=-20), cheques + 10)
    paying = _book(cheque_session, crowd[ROSTER_SIZE * 2:], BookingStatus.PRESENT)
    year = clock.today_local().year
    programme = db.session.scalars(select(ChequeProgramme)
                                   .filter_by(name="Chèques de mesure")).first()
    if programme is None:
        programme = ChequeProgramme(name="Chèques de mesure", issuer="Département",
                                    operator="APTIC", number_pattern=r"9[0-9]{9}",
                                    validity_end=date(year + 1, 12, 31))
        db.session.add(programme)
        db.session.flush()
    certificates = list(db.session.scalars(
        select(Document.id).where(Document.kind == DocumentKind.CERTIFICATE,
                                  Document.site_id == site.id).order_by(Document.id.desc())
        .limit(20)))
    db.session.commit()
    assert all(s.status is SessionStatus.SCHEDULED for s in (checkin, closing))
    return Scene(site_id=site.id, staff=staff,
                 beneficiaries=[p.login_id for p in beneficiaries],
                 checkin_session=checkin.id, checkin_codes=[b.code for b in roster],
                 checkin_bookings=[b.id for b in roster], closing_session=closing.id,
                 bookable_sessions=[s.id for s in bookable], cheque_session=cheque_session.id,
                 cheque_bookings=[b.id for b in paying],
                 cheque_programme=programme.id, certificate_documents=certificates,
                 year=year)
