"""The desk: booking and cancelling on a person's behalf, at the staff member's own sites.

The booking rules themselves (seats, waiting list, limits, deadlines) are ``bookings``'; this
module adds who may use them at the desk: a person the staff member may see
(``people.visible``), a session or course of a site where their role allows ``book_for``.
"""

from __future__ import annotations

from flask_babel import gettext as _

from portal.extensions import db
from portal.models.bookings import Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import BookingSource
from portal.services import bookings, people
from portal.services.audit import Actor
from portal.services.errors import ValidationFailed
from portal.services.staff_access import Action, at_sites, can, require, staff_of


def book_for(person: Beneficiary, session: WorkshopSession, *, actor: Actor,
             waitlist: bool = False) -> bookings.Outcome:
    """Book a seat (or a place on the waiting list) for the person, at the desk."""
    staff = staff_of(actor)
    people.require_visible(staff, person)
    if not can(staff, Action.BOOK_FOR, session.site_id):
        raise ValidationFailed("session_not_offered", _("Choisissez une séance dans la liste."))
    return bookings.book(session, person, actor=actor, source=BookingSource.DESK,
                         waitlist=waitlist)


def book_course_for(person: Beneficiary, course: Course, *, actor: Actor) -> list[Booking]:
    """Book every upcoming session of a course for the person, or none."""
    staff = staff_of(actor)
    people.require_visible(staff, person)
    if not can(staff, Action.BOOK_FOR, course.site_id):
        raise ValidationFailed("course_not_offered", _("Choisissez un parcours dans la liste."))
    return bookings.book_course(course, person, actor=actor, source=BookingSource.DESK)


def cancel_for(booking: Booking, *, actor: Actor) -> list[Booking]:
    """Cancel a booking on the person's behalf (after the online deadline too)."""
    staff = staff_of(actor)
    people.require_visible(staff, booking.beneficiary)
    require(staff, Action.BOOK_FOR, booking.session.site_id)
    return bookings.cancel(booking, actor=actor)


def card_site(staff: StaffMember, person: Beneficiary) -> Site | None:
    """Where the person's login card is issued: their usual site (if the staff member may
    print cards there), else the first site where the staff member may."""
    if person.home_site is not None:
        require(staff, Action.PRINT_CARD, person.home_site.id)
        return person.home_site
    return db.session.scalars(
        db.select(Site).where(at_sites(staff, Action.PRINT_CARD, Site.id)).order_by(Site.id)
        .limit(1)).first()
