"""Convocations: printed appointment slips for the people no message can reach.

A person with neither an e-mail address nor a mobile number (``messages.channel_for`` is
None) gets no reminder from the outbox; the desk prints one slip per booking of a day instead
and hands it out or posts it. Only booked people of sessions that take place are concerned:
waiting people hold no seat, a cancelled session has nothing to attend, and an anonymised
person is no longer anyone to write to.

The slips are in French whatever the language of the screen (explicit-locale formatting),
laid out on demand and not stored; printing them is audited (who printed which day's slips).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import joinedload

from portal.clock import PARIS
from portal.extensions import db
from portal.formatting import hour, long_date, upper_first
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Site, StaffMember
from portal.models.vocab import BookingStatus, SessionStatus
from portal.pdf.documents import convocations_pdf
from portal.services import staff_access
from portal.services.audit import Actor, record
from portal.services.errors import ValidationFailed
from portal.services.messages import channel_for
from portal.services.staff_access import Action

DOCUMENT_LOCALE = "fr"


@dataclass(frozen=True)
class Convocation:
    booking: Booking

    @property
    def name(self) -> str:
        person = self.booking.beneficiary
        return " ".join(p for p in (person.first_name, person.last_name) if p)

    @property
    def session(self) -> WorkshopSession:
        return self.booking.session


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, PARIS)
    return start, datetime.combine(day + timedelta(days=1), time.min, PARIS)


def unreachable_bookings(site: Site, day: date) -> list[Convocation]:
    """The day's booked seats (sessions not cancelled) of people no message reaches, by
    start then name. One query."""
    start, end = _bounds(day)
    rows = db.session.scalars(
        db.select(Booking).join(Booking.session)
        .options(joinedload(Booking.beneficiary))
        .where(WorkshopSession.site_id == site.id,
               WorkshopSession.starts_at >= start, WorkshopSession.starts_at < end,
               WorkshopSession.status != SessionStatus.CANCELLED,
               Booking.status == BookingStatus.BOOKED)
        .order_by(WorkshopSession.starts_at, WorkshopSession.id, Booking.id)).unique()
    # An anonymised person has no channel either, but no one to write to any more.
    found = [Convocation(b) for b in rows
             if not b.beneficiary.is_anonymised and channel_for(b.beneficiary) is None]
    return sorted(found, key=lambda c: (c.session.starts_at, c.session.id, c.name.casefold()))


def day_list(staff: StaffMember, site: Site, day: date) -> list[Convocation]:
    """Who will get a slip for ``day`` (the screen before printing)."""
    staff_access.require(staff, Action.PRINT_CONVOCATIONS, site.id)
    return unreachable_bookings(site, day)


def slips_data(site: Site, day: date, convocations: list[Convocation]) -> dict[str, Any]:
    """The PDF's data: plain French text, one slip per convocation."""
    fr = DOCUMENT_LOCALE
    title = f"Convocations du {long_date(day, fr)} – {site.name}"
    place = ", ".join(p for p in (site.address, " ".join(
        q for q in (site.postcode, site.city) if q)) if p)
    return {
        "doc_title": title, "pdf_title": title, "lang": fr,
        "site": {"name": site.name, "address": place, "phone": site.phone},
        "slips": [{
            "name": c.name,
            "workshop": c.session.workshop.title,
            "date": upper_first(long_date(day, fr)),
            "time": f"{hour(c.session.starts_at, fr)} – {hour(c.session.ends_at, fr)}",
            "room": c.session.room.strip(),
            "bring": c.session.workshop.what_to_bring.strip(),
            "note": c.session.note.strip(),  # the team's word for participants
            "code": c.booking.code,
        } for c in convocations],
    }


def print_day(staff: StaffMember, site: Site, day: date, *, actor: Actor) -> bytes:
    """One PDF of the day's slips (two or three to an A4 page), audited. An empty day is
    refused with a plain message: no empty PDF."""
    staff_access.require(staff, Action.PRINT_CONVOCATIONS, site.id)
    convocations = unreachable_bookings(site, day)
    if not convocations:
        raise ValidationFailed(
            "no_convocations",
            _("Aucune convocation à imprimer pour le %(day)s : personne d'inscrit ce jour-là "
              "n'est privé d'e-mail et de téléphone portable.",
              day=long_date(day)), field="jour")
    pdf = convocations_pdf(slips_data(site, day, convocations))  # laid out before writing
    record(actor, "convocations.printed", object_type="site", object_id=site.id,
           site_id=site.id, day=day.isoformat(), count=len(convocations),
           bookings=[c.booking.id for c in convocations])
    db.session.commit()
    return pdf
