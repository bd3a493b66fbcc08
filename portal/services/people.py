"""Which beneficiaries a staff member may see, and finding them at the desk.

A site's people are those whose usual site it is, and those who booked one of its sessions
(they came to it, or are expected there): staff see the people of the sites where their role
allows ``see_people`` (every site for network administrators), never the others. Anonymised
people are nobody's.
"""

from __future__ import annotations

import unicodedata

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, false, or_

from portal import folding
from portal.extensions import db
from portal.folding import phone_digits
from portal.models.bookings import Booking
from portal.models.catalogue import WorkshopSession
from portal.models.people import Beneficiary, StaffMember
from portal.services.codes import normalise_code
from portal.services.errors import NotFound
from portal.services.staff_access import Action, sites_where

MAX_RESULTS = 30


def visible(staff: StaffMember) -> ColumnElement[bool]:
    """SQL: the beneficiary is one the staff member may see."""
    alive = Beneficiary.anonymised_at.is_(None)
    sites = sites_where(staff, Action.SEE_PEOPLE)
    if sites is None:
        return alive
    booked_here = (db.select(Booking.id)
                   .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
                   .where(Booking.beneficiary_id == Beneficiary.id,
                          WorkshopSession.site_id.in_(sites))
                   .correlate(Beneficiary).exists())
    return and_(alive, or_(Beneficiary.home_site_id.in_(sites), booked_here))


def can_see(staff: StaffMember, person: Beneficiary) -> bool:
    return db.session.scalar(
        db.select(Beneficiary.id).where(Beneficiary.id == person.id, visible(staff))
    ) is not None


def unknown_person() -> NotFound:
    return NotFound("unknown_person", _("Cette personne n'est pas connue."))


def require_visible(staff: StaffMember, person: Beneficiary) -> None:
    """Someone the staff member may not see does not exist for them."""
    if not can_see(staff, person):
        raise unknown_person()


def fold(text: str) -> str:
    """Lower case without accents: "Hélène" matches "helene"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _like(text: str) -> str:
    return text.replace("\\", "").replace("%", "").replace("_", "")


def search(staff: StaffMember, text: str) -> list[Beneficiary]:
    """People the staff member may see whose name, identifier, phone or e-mail matches, at
    most ``MAX_RESULTS``, in one query.

    Every word typed must start a word of the person's names or e-mail (folded: no case, no
    accents) or sound like one (``folding.sound``: "Helene Durant" finds "Hélène Durand");
    four digits or more are looked for in the phone number, whatever its formatting. Merged
    records are not found (their pages lead to the record kept)."""
    text = (text or "").strip()[:80]
    query = db.select(Beneficiary).where(visible(staff), Beneficiary.merged_into_id.is_(None))
    if text:
        digits = phone_digits(text)
        words = folding.fold(text).split()[:8]
        by_words = and_(*(or_(Beneficiary.search_text.like(f"% {_like(word)}%"),
                              Beneficiary.search_key.like(f"% {_like(folding.sound(word))}%"))
                          for word in words)) if words else false()
        conditions = [by_words, Beneficiary.login_id == normalise_code(text)]
        if len(digits) >= 4 and not any(ch.isalpha() for ch in text):
            conditions.append(Beneficiary.search_text.like(f"%{digits}%"))
            if digits.startswith("0"):  # typed without its leading 0 too
                conditions.append(Beneficiary.search_text.like(f"%{digits[1:]}%"))
        query = query.where(or_(*conditions))
    query = query.order_by(Beneficiary.last_name, Beneficiary.first_name,
                           Beneficiary.id).limit(MAX_RESULTS)
    return list(db.session.scalars(query))
