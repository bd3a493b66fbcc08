"""All models, imported here so Alembic and the application see the whole schema."""

from portal.models.audit import AuditEvent
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme, Booking
from portal.models.catalogue import (
    Course,
    Workshop,
    WorkshopSession,
    WorkshopSubtheme,
    WorkshopTheme,
)
from portal.models.closures import ClosureDay
from portal.models.documents import Document, DocumentCounter, DocumentFile
from portal.models.login_failures import LoginFailure
from portal.models.messages import OutboxMessage
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.sessions import LoginSession
from portal.models.team import StaffInvitation
from portal.models.vouchers import Cheque, ChequeProgramme

__all__ = [
    "Accompaniment",
    "AccompanimentSubtheme",
    "AccompanimentTheme",
    "AuditEvent",
    "Beneficiary",
    "Booking",
    "Cheque",
    "ChequeProgramme",
    "ClosureDay",
    "Course",
    "Document",
    "DocumentCounter",
    "DocumentFile",
    "LoginFailure",
    "LoginSession",
    "OutboxMessage",
    "Site",
    "StaffInvitation",
    "StaffMember",
    "StaffSiteRole",
    "Workshop",
    "WorkshopSession",
    "WorkshopSubtheme",
    "WorkshopTheme",
]
