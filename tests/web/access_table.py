"""The access matrix: every rule of ``app.url_map``, who may reach it and what each person gets.

ONE table, ``ROUTES``: (endpoint, method) → ``Entry``. ``test_access_matrix.py`` fails when a
rule of the URL map has no entry or an entry names no rule, then asks every route as every
identity below and checks the answer ``expected`` derives from the entry, and the security
headers of every answer (docs/security.md#access-matrix).

The rules ``expected`` states are the app's own (``portal/access.py``): a route off the public
allow-list needs a login (anonymous: a redirect to ``/connexion``, 401 for htmx); the beneficiary
space (``me``) is 403 for staff and the staff screens (``staff``, ``account``) 403 for
beneficiaries (blueprint guards, before any object is loaded); an owner-scoped object is a 404
for anyone but its owner; a staff route needing an action at its object's site is a 404 without a
role there and a 403 when the role lacks the action (``services/staff_access.PERMISSIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from portal.models.vocab import StaffRole
from portal.services.staff_access import PERMISSIONS, Action

SITES = "ABCD"


class Who(Enum):
    """Whom a route is for (the guard that answers first)."""

    ANYONE = "anyone"  # on the public allow-list: its own answer, logged in or not
    SIGNED_IN = "signed in"  # anyone logged in, on their own account
    BENEFICIARY = "beneficiary"  # the beneficiary space: staff are refused (403)
    STAFF = "staff"  # the staff screens: beneficiaries are refused (403)


@dataclass(frozen=True)
class Entry:
    who: Who
    #: staff: the action needed at the site of the route's object (``None``: a listing, or no
    #: site: open to every staff member, showing only what the action allows)
    action: Action | None = None
    network_only: bool = False  # what belongs to no site: network administrators only
    #: a listing of what the action allows: a 403 for a staff member allowed it at no site
    anywhere: Action | None = None
    #: the object the request names belongs to this identity alone: a 404 for anyone else
    owner: str | None = None
    answer: int | None = None  # a public route's own answer when it is not a 2xx/3xx

    @property
    def per_site(self) -> bool:
        """Asked once for the objects of each site (else once, with the objects of site A)."""
        return self.who is Who.STAFF and self.action is not None


ANYONE = Entry(Who.ANYONE)
SIGNED_IN = Entry(Who.SIGNED_IN)
MINE = Entry(Who.BENEFICIARY)
LISTING = Entry(Who.STAFF)
NETWORK = Entry(Who.STAFF, network_only=True)
OWNER = "beneficiary A"  # of the booking, the document and the course asked for


def staff(action: Action) -> Entry:
    return Entry(Who.STAFF, action)


#: (endpoint, method) → who may reach it. Allowed calls run in this order: the routes that end
#: something (a person anonymised, a colleague's last role, logging out) come last.
ROUTES: dict[tuple[str, str], Entry] = {
    ("static", "GET"): ANYONE,
    ("public.home", "GET"): ANYONE,
    ("public.accessibility", "GET"): ANYONE,
    ("public.privacy", "GET"): ANYONE,
    ("public.healthz", "GET"): ANYONE,
    ("public.verify_form", "GET"): ANYONE,
    ("public.verify", "GET"): Entry(Who.ANYONE, answer=404),  # an unknown code
    ("public.set_language", "POST"): ANYONE,
    ("calendar_feed.feed", "GET"): Entry(Who.ANYONE, answer=404),  # an unknown token
    ("auth.login", "GET"): ANYONE,
    ("auth.login", "POST"): ANYONE,
    ("auth.first_login", "GET"): ANYONE,
    ("auth.first_login", "POST"): ANYONE,
    ("auth.invitation", "GET"): Entry(Who.ANYONE, answer=404),  # an unknown invitation
    ("auth.invitation", "POST"): Entry(Who.ANYONE, answer=404),
    ("auth.invitation_code", "GET"): ANYONE,
    ("auth.invitation_code", "POST"): ANYONE,
    ("auth.change_password", "GET"): SIGNED_IN,
    ("auth.change_password", "POST"): SIGNED_IN,
    ("auth.keep_alive", "POST"): SIGNED_IN,
    ("me.home", "GET"): MINE,
    ("me.find", "GET"): MINE,
    ("me.session_detail", "GET"): MINE,
    ("me.course_detail", "GET"): MINE,
    ("me.my_documents", "GET"): MINE,
    ("me.profile", "GET"): MINE,
    ("me.profile", "POST"): MINE,
    ("me.booking_ics", "GET"): Entry(Who.BENEFICIARY, owner=OWNER),
    ("me.download_document", "GET"): Entry(Who.BENEFICIARY, owner=OWNER),
    ("me.my_data", "POST"): MINE,  # both rules: the PDF and the JSON
    ("me.create_feed", "POST"): MINE,
    ("me.revoke_feed", "POST"): MINE,
    ("me.book", "POST"): MINE,
    ("me.book_course", "POST"): MINE,
    ("me.cancel", "POST"): Entry(Who.BENEFICIARY, owner=OWNER),
    ("account.home", "GET"): LISTING,
    ("account.end_others", "POST"): LISTING,
    # a login session of a colleague: only one's own may be ended
    ("account.end_session", "POST"): Entry(Who.STAFF, owner="colleague"),
    ("staff.today", "GET"): LISTING,
    ("staff.session_detail", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.checkin_page", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.roster_fragment", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.person_panel", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.scan", "POST"): staff(Action.CHECK_IN),
    ("staff.mark", "POST"): staff(Action.CHECK_IN),
    ("staff.walk_in", "POST"): staff(Action.CHECK_IN),
    ("staff.take_cheques", "POST"): staff(Action.TAKE_CHEQUES),
    ("staff.issue_receipt", "POST"): staff(Action.TAKE_CHEQUES),
    ("staff.close", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.close", "POST"): staff(Action.CLOSE_SESSION),
    ("staff.session_certificates_pdf", "GET"): staff(Action.SEE_DOCUMENTS),
    ("staff.reopen", "GET"): staff(Action.REOPEN_SESSION),
    ("staff.reopen", "POST"): staff(Action.REOPEN_SESSION),
    ("staff.people_search", "GET"): LISTING,
    ("staff.person", "GET"): staff(Action.SEE_PEOPLE),
    ("staff.book_for", "POST"): staff(Action.BOOK_FOR),
    ("staff.book_course_for", "POST"): staff(Action.BOOK_FOR),
    ("staff.cancel_for", "POST"): staff(Action.BOOK_FOR),
    ("staff.documents_list", "GET"): LISTING,
    ("staff.document_download", "GET"): staff(Action.SEE_DOCUMENTS),
    ("staff.document_revoke", "POST"): staff(Action.REVOKE_DOCUMENT),
    ("staff.booking_certificate", "POST"): staff(Action.ISSUE_CERTIFICATES),
    ("staff.session_certificates", "POST"): staff(Action.ISSUE_CERTIFICATES),
    ("staff.attendance_sheet", "POST"): staff(Action.PRINT_ATTENDANCE),
    ("staff.login_card", "POST"): staff(Action.PRINT_CARD),
    ("staff.deposit_slip", "POST"): staff(Action.DEPOSIT_SLIP),
    ("staff.programme_week", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.programme_month", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.programme_print", "GET"): staff(Action.PRINT_PROGRAMME),
    ("staff.convocations_page", "GET"): staff(Action.PRINT_CONVOCATIONS),
    ("staff.reports", "GET"): staff(Action.SEE_REPORTS),
    ("staff.reports_pdf", "GET"): staff(Action.SEE_REPORTS),
    ("staff.convocations_print", "POST"): staff(Action.PRINT_CONVOCATIONS),
    ("staff.session_new", "GET"): Entry(Who.STAFF, anywhere=Action.SCHEDULE_SESSIONS),
    ("staff.session_new", "POST"): staff(Action.SCHEDULE_SESSIONS),
    ("staff.session_edit", "GET"): staff(Action.SCHEDULE_SESSIONS),
    ("staff.session_edit", "POST"): staff(Action.SCHEDULE_SESSIONS),
    ("staff.session_duplicate", "GET"): staff(Action.SCHEDULE_SESSIONS),
    ("staff.session_duplicate", "POST"): staff(Action.SCHEDULE_SESSIONS),
    ("staff.call_off_session", "GET"): staff(Action.CANCEL_SESSION),
    ("staff.call_off_session", "POST"): staff(Action.CANCEL_SESSION),
    ("staff.closure_days", "GET"): staff(Action.EDIT_CLOSURES),
    ("staff.closure_days", "POST"): staff(Action.EDIT_CLOSURES),
    ("staff.catalogue", "GET"): LISTING,
    ("staff.workshop_new", "GET"): LISTING,
    ("staff.workshop_new", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.workshop_preview", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.workshop_edit", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.workshop_edit", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.workshop_archive", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.workshop_restore", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.courses_list", "GET"): LISTING,
    ("staff.course_new", "GET"): LISTING,
    ("staff.course_new", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.course_edit", "GET"): staff(Action.SEE_SESSIONS),
    ("staff.course_edit", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.course_add_session", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.course_remove_session", "POST"): staff(Action.EDIT_CATALOGUE),
    ("staff.help_list", "GET"): LISTING,
    ("staff.help_new", "GET"): LISTING,
    ("staff.help_new", "POST"): staff(Action.RECORD_HELP),
    ("staff.help_detail", "GET"): staff(Action.RECORD_HELP),
    ("staff.help_cheques", "POST"): staff(Action.TAKE_CHEQUES),
    ("staff.help_receipt", "POST"): staff(Action.TAKE_CHEQUES),
    # the place's help was recorded by a colleague: changing it needs EDIT_ANY_HELP
    ("staff.help_edit", "GET"): staff(Action.EDIT_ANY_HELP),
    ("staff.help_edit", "POST"): staff(Action.EDIT_ANY_HELP),
    ("staff.help_remove", "GET"): staff(Action.EDIT_ANY_HELP),
    ("staff.help_remove", "POST"): staff(Action.EDIT_ANY_HELP),
    ("staff.team_list", "GET"): LISTING,
    ("staff.team_invite", "GET"): LISTING,
    ("staff.team_invite", "POST"): staff(Action.MANAGE_TEAM),
    ("staff.team_member", "GET"): staff(Action.MANAGE_TEAM),
    ("staff.team_role", "POST"): staff(Action.MANAGE_TEAM),
    ("staff.team_disable", "POST"): staff(Action.MANAGE_TEAM),
    ("staff.team_enable", "POST"): staff(Action.MANAGE_TEAM),
    ("staff.journal", "GET"): Entry(Who.STAFF, anywhere=Action.SEE_AUDIT),
    # last: the colleague has no role left at the site afterwards
    ("staff.team_role_remove", "POST"): staff(Action.MANAGE_TEAM),
    ("staff.sites_list", "GET"): LISTING,
    ("staff.site_new", "GET"): NETWORK,
    ("staff.site_new", "POST"): NETWORK,
    ("staff.site_settings", "GET"): staff(Action.EDIT_SITE),
    ("staff.site_settings", "POST"): staff(Action.EDIT_SITE),
    # uploads before the images are read (an image never set is a 404), removal after
    ("staff.site_logo", "POST"): staff(Action.EDIT_SITE),
    ("staff.site_logo", "GET"): staff(Action.EDIT_SITE),
    ("staff.site_logo_remove", "POST"): staff(Action.EDIT_SITE),
    ("staff.site_signature", "POST"): staff(Action.EDIT_SITE),
    ("staff.site_signature", "GET"): staff(Action.EDIT_SITE),
    ("staff.site_signature_remove", "POST"): staff(Action.EDIT_SITE),
    ("staff.programmes_list", "GET"): Entry(Who.STAFF, anywhere=Action.SEE_CHEQUES),
    ("staff.programme_detail", "GET"): Entry(Who.STAFF, anywhere=Action.SEE_CHEQUES),
    ("staff.programme_new", "GET"): NETWORK,
    ("staff.programme_new", "POST"): NETWORK,
    ("staff.programme_edit", "GET"): NETWORK,
    ("staff.programme_edit", "POST"): NETWORK,
    ("staff.programme_try", "POST"): NETWORK,
    ("staff.person_new", "GET"): LISTING,
    ("staff.person_new", "POST"): staff(Action.REGISTER_PERSON),
    ("staff.person_edit", "GET"): staff(Action.EDIT_PERSON),
    ("staff.person_edit", "POST"): staff(Action.EDIT_PERSON),
    ("staff.reset_access", "POST"): staff(Action.RESET_ACCESS),
    ("staff.person_merge", "GET"): staff(Action.MERGE_PEOPLE),
    ("staff.person_merge", "POST"): staff(Action.MERGE_PEOPLE),
    ("staff.walk_in_new", "POST"): staff(Action.REGISTER_PERSON),
    ("staff.network", "GET"): NETWORK,
    ("staff.exports", "GET"): staff(Action.EXPORT_DATA),
    ("staff.export_download", "GET"): staff(Action.EXPORT_DATA),
    ("staff.person_data_export", "POST"): staff(Action.EXPORT_PERSON),
    ("staff.person_anonymise", "GET"): staff(Action.ANONYMISE_PERSON),
    ("staff.person_anonymise", "POST"): staff(Action.ANONYMISE_PERSON),  # last: the person is gone
    ("auth.logout", "POST"): SIGNED_IN,  # last of all
}

#: who asks, among the staff: the role held at each site (a network administrator is an
#: administrator at all). "animateur" is an animateur at A: another site's animateur at B–D.
STAFF_IDENTITIES: dict[str, dict[str, StaffRole]] = {
    "mixed": {"A": StaffRole.RECEPTION, "B": StaffRole.ANIMATEUR, "C": StaffRole.ADMIN},
    "reception": {"A": StaffRole.RECEPTION},
    "animateur": {"A": StaffRole.ANIMATEUR},
    "admin": {"A": StaffRole.ADMIN},
    "network": {name: StaffRole.ADMIN for name in SITES},
    "nowhere": {},
}
ANONYMOUS = "anonymous"
BENEFICIARIES = (OWNER, "beneficiary B")  # the person of site A, the person of site B
IDENTITIES = (ANONYMOUS, *BENEFICIARIES, *STAFF_IDENTITIES)
LOGIN = "login"  # anonymous on a route behind the login: 302 to /connexion, 401 for htmx


def role_rule(identity: str, action: Action, site: str) -> int | None:
    """404 without a role at the site, 403 when the role lacks the action, else None."""
    role = STAFF_IDENTITIES[identity].get(site)
    if role is None:
        return 404
    return None if action in PERMISSIONS[role] else 403


def expected(entry: Entry, identity: str, site: str = "A") -> int | str | None:
    """The refusal the identity gets (a status, or ``LOGIN``), or None: the route's own answer
    (``entry.answer``, else a 2xx, a 3xx or a form's 422 — never 401, 403, 404 or a 5xx)."""
    if entry.who is Who.ANYONE:
        return None
    if identity == ANONYMOUS:
        return LOGIN
    if entry.who is Who.SIGNED_IN:
        return None
    is_staff = identity in STAFF_IDENTITIES
    if (entry.who is Who.BENEFICIARY) is is_staff:
        return 403
    if entry.owner is not None and entry.owner != identity:
        return 404
    if not is_staff:
        return None
    if entry.network_only:
        return None if identity == "network" else 403
    if entry.anywhere is not None and all(role_rule(identity, entry.anywhere, other)
                                          for other in SITES):
        return 403
    return None if entry.action is None else role_rule(identity, entry.action, site)
