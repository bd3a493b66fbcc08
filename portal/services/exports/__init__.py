"""Exports: attendance, the activity log (national model), cheques taken, the people of a site.

Each export is a :class:`Table`: French (translated) headers and a generator of typed rows
(``str``, ``int``, ``Decimal``, ``date``, ``bool`` or ``None``) that reads the database in
batches (``stream_results`` + ``partitions``), so a network's year is never held in memory.
``writers.py`` turns a table into CSV (French Excel) or XLSX.

Access: :func:`scope_for` answers "may this staff member export this here" (``EXPORT_DATA``
at the site, and ``SEE_PEOPLE`` too for the people; the whole network is the network
administrator's). :func:`record` audits an export without any personal data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from portal import clock
from portal.extensions import db
from portal.forms import parse_id
from portal.models.bookings import (
    Accompaniment,
    AccompanimentSubtheme,
    AccompanimentTheme,
    Booking,
)
from portal.models.catalogue import Workshop, WorkshopSession, WorkshopSubtheme, WorkshopTheme
from portal.models.documents import Document
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import (
    Autonomy,
    BookingStatus,
    Gender,
    Level,
    PlaceType,
    SessionStatus,
    SocialStatus,
    age_bracket,
)
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import audit, reports, staff_access
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound, ValidationFailed
from portal.services.periods import Period
from portal.services.reports import age_label
from portal.services.staff_access import Action

#: rows read from the database at a time.
BATCH = 500
#: above this many rows the screen warns that the file may take a minute.
LARGE = 20_000
#: the rows of an XLSX sheet under its header line (1 048 576 in all).
XLSX_MAX_ROWS = 1_048_575
#: the value of the "site" parameter that asks for the whole network.
NETWORK = "reseau"


class Kind(StrEnum):
    ATTENDANCE = "presences"
    ACTIVITIES = "activites"
    CHEQUES = "cheques"
    PEOPLE = "personnes"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])

    @property
    def audit_name(self) -> str:
        return _AUDIT_NAMES[self]


_KIND_LABELS = {
    Kind.ATTENDANCE: _l("Présences de la période"),
    Kind.ACTIVITIES: _l("Journal des accompagnements (modèle national)"),
    Kind.CHEQUES: _l("Chèques pris"),
    Kind.PEOPLE: _l("Personnes du lieu"),
}
_AUDIT_NAMES = {Kind.ATTENDANCE: "attendance", Kind.ACTIVITIES: "activities",
                Kind.CHEQUES: "cheques", Kind.PEOPLE: "people"}


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True)
class Scope:
    """One site, or the whole network (``site_id`` is None). Plain values, no ORM row: the
    rows are read after the request's session has ended (a streamed response)."""

    site_id: int | None
    code: str = "RESEAU"
    name: str = ""

    @classmethod
    def of(cls, site: Site | None) -> Scope:
        return cls(None) if site is None else cls(site.id, site.code, site.name)

    @property
    def is_network(self) -> bool:
        return self.site_id is None

    def where(self, column: Any) -> Any:
        return True if self.site_id is None else column == self.site_id


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: Iterator[Sequence[Any]]


def parse_kind(text: str | None) -> Kind:
    try:
        return Kind((text or "").strip())
    except ValueError:
        message = _("Choisissez ce que vous voulez exporter.")
        raise ValidationFailed("export_kind", message, fields={"quoi": message}) from None


def parse_format(text: str | None) -> Format:
    try:
        return Format((text or Format.CSV.value).strip())
    except ValueError:
        message = _("Choisissez le format CSV ou XLSX.")
        raise ValidationFailed("export_format", message, fields={"format": message}) from None


def actions_for(kind: Kind) -> tuple[Action, ...]:
    return (Action.EXPORT_DATA, Action.SEE_PEOPLE) if kind is Kind.PEOPLE else (
        Action.EXPORT_DATA,)


def sites_for(staff: Any) -> list[Site]:
    """The sites the staff member may export from, by name."""
    return staff_access.sites_for(staff, Action.EXPORT_DATA)


def scope_for(staff: Any, kind: Kind, site_text: str | None) -> Scope:
    """The site (or the network) asked for, once the staff member may export ``kind`` there.

    No site asked: the only site they may export from; the network is for the network
    administrator (a 403 for anyone else); a site where they hold no role is a 404."""
    text = (site_text or "").strip()
    if text == NETWORK:
        staff_access.require_network_admin(staff)
        return Scope.of(None)
    if not text:
        sites = sites_for(staff)
        if len(sites) != 1:
            message = _("Choisissez un lieu.")
            if not sites:
                raise NotAllowed("role_required", _("Votre rôle ne permet pas d'exporter."))
            raise ValidationFailed("export_site", message, fields={"site": message})
        text = str(sites[0].id)
    site_id = parse_id(text)
    site = db.session.get(Site, site_id) if site_id else None
    if site is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    for action in actions_for(kind):
        staff_access.require(staff, action, site.id)
    return Scope.of(site)


# --- cells ------------------------------------------------------------------------------

def _euros(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(Decimal("0.01"))


def _day(value: Any) -> Any:
    return clock.local(value).date() if value is not None else None


def _hour(value: Any) -> str:
    return clock.local(value).strftime("%H:%M") if value is not None else ""


class _Words:
    """The words of one export, each translated once.

    A network's year is hundreds of thousands of rows with a few dozen distinct labels:
    translating each cell again (a catalogue lookup through the request's context) was most
    of an export's time. One instance per export, made inside the request (its language)."""

    def __init__(self) -> None:
        self._seen: dict[Any, str] = {}

    def label(self, member: Any) -> str:
        if member is None:
            return ""
        key = (type(member), member)  # string enums: Equipment "other" == PlaceType's
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = str(member.label)
        return found

    def labels(self, members: Sequence[Any]) -> str:
        return ", ".join(self.label(member) for member in members)

    def age(self, birth_year: int | None, year: int) -> str:
        return self.bracket(age_bracket(birth_year, year))

    def bracket(self, code: str) -> str:
        key = ("age", code)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = age_label(code)
        return found

    def yes_no(self, value: bool | None) -> str:
        if value is None:
            return ""
        key = ("yes_no", value)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = _("Oui") if value else _("Non")
        return found


def _stream(statement: Select[Any]) -> Iterator[Sequence[Any]]:
    """Row batches of a query read as a server-side cursor (PostgreSQL) or lazily (SQLite)."""
    result = db.session.execute(statement.execution_options(stream_results=True,
                                                            yield_per=BATCH))
    try:
        yield from result.partitions(BATCH)
    finally:  # a download stopped half-way closes its server-side cursor
        result.close()


def _links(model: Any, key: Any, value: Any, ids: list[int]) -> dict[int, list[Any]]:
    found: dict[int, list[Any]] = {}
    if ids:
        for owner, member in db.session.execute(select(key, value).where(key.in_(ids))
                                                .order_by(key, model.id)):
            found.setdefault(owner, []).append(member)
    return found


# --- 1. attendance ------------------------------------------------------------------------

def _paid(*columns: Any) -> Any:
    """A scalar subquery over the cheques that paid the booking of the row."""
    return (select(*columns).where(Cheque.booking_id == Booking.id,
                                   Cheque.redeemed_at.is_not(None)).scalar_subquery())


def _attendance_query(scope: Scope, period: Period) -> Select[Any]:
    return (select(WorkshopSession.starts_at, Site.name, Workshop.title,
                   Beneficiary.first_name, Beneficiary.last_name,
                   Booking.status, Booking.checked_in_at, _paid(func.count(Cheque.id)),
                   _paid(func.coalesce(func.sum(Cheque.value_cents), 0)))
            .select_from(Booking)
            .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .join(Site, Site.id == WorkshopSession.site_id)
            .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
            .where(WorkshopSession.starts_at >= period.utc_start,
                   WorkshopSession.starts_at < period.utc_end,
                   scope.where(WorkshopSession.site_id))
            .order_by(WorkshopSession.starts_at, WorkshopSession.id, Booking.id))


def attendance(scope: Scope, period: Period) -> Table:
    headers = [_("Date"), _("Heure"), _("Lieu"), _("Atelier"), _("Prénom"), _("Nom"),
               _("Statut"), _("Arrivée"), _("Chèques payés"), _("Valeur des chèques (€)")]

    def rows() -> Iterator[Sequence[Any]]:
        words = _Words()
        for batch in _stream(_attendance_query(scope, period)):
            for (starts, site, title, first, last, status, checked_in, cheques,
                 cents) in batch:
                yield [_day(starts), _hour(starts), site, title, first, last,
                       words.label(status), _hour(checked_in), int(cheques), _euros(cents)]

    return Table(headers, rows())


# --- 2. the activity log (one row per accompaniment, the national model's fields) ----------

ACTIVITY_HEADERS = (
    _l("Date"), _l("Type"), _l("Lieu"), _l("Canal d'accompagnement"), _l("Durée (min)"),
    _l("Nom de l'atelier"), _l("Matériel numérique utilisé"),
    _l("Thématique(s) d'accompagnement"), _l("Démarche administrative"),
    _l("Niveau d'autonomie (ou de l'atelier)"), _l("Bénéficiaire réorienté"),
    _l("Structure de redirection"), _l("Bénéficiaire"), _l("Commune de résidence"),
    _l("Code postal"), _l("Genre"), _l("Tranche d'âge"), _l("Statut"),
    _l("Membre de l'équipe"), _l("Objet de l'aide individuelle"),
)


def _collective_query(scope: Scope, period: Period) -> Select[Any]:
    animator = aliased(StaffMember)
    return (select(WorkshopSession.starts_at, WorkshopSession.ends_at, Site.name,
                   Workshop.id, Workshop.title, Workshop.equipment, Workshop.level,
                   Beneficiary.first_name, Beneficiary.last_name, Beneficiary.commune,
                   Beneficiary.postcode, Beneficiary.gender, Beneficiary.birth_year,
                   Beneficiary.social_status, animator.full_name)
            .select_from(Booking)
            .join(WorkshopSession, WorkshopSession.id == Booking.session_id)
            .join(Workshop, Workshop.id == WorkshopSession.workshop_id)
            .join(Site, Site.id == WorkshopSession.site_id)
            .join(Beneficiary, Beneficiary.id == Booking.beneficiary_id)
            .outerjoin(animator, animator.id == WorkshopSession.animator_id)
            .where(Booking.status == BookingStatus.PRESENT,
                   WorkshopSession.status != SessionStatus.CANCELLED,
                   WorkshopSession.starts_at >= period.utc_start,
                   WorkshopSession.starts_at < period.utc_end,
                   scope.where(WorkshopSession.site_id))
            .order_by(WorkshopSession.starts_at, WorkshopSession.id, Booking.id))


def _individual_query(scope: Scope, period: Period) -> Select[Any]:
    return (select(Accompaniment.id, Accompaniment.started_at, Accompaniment.duration_minutes,
                   Accompaniment.place_type, Accompaniment.equipment, Accompaniment.autonomy,
                   Accompaniment.summary, Accompaniment.referred, Accompaniment.referred_to,
                   Accompaniment.commune, Accompaniment.postcode, Accompaniment.gender,
                   Accompaniment.age_bracket, Accompaniment.social_status, Site.name,
                   Beneficiary.id, Beneficiary.first_name, Beneficiary.last_name,
                   Beneficiary.commune, Beneficiary.postcode, Beneficiary.gender,
                   Beneficiary.birth_year, Beneficiary.social_status, StaffMember.full_name)
            .select_from(Accompaniment)
            .join(Site, Site.id == Accompaniment.site_id)
            .outerjoin(Beneficiary, Beneficiary.id == Accompaniment.beneficiary_id)
            .outerjoin(StaffMember, StaffMember.id == Accompaniment.staff_id)
            .where(Accompaniment.started_at >= period.utc_start,
                   Accompaniment.started_at < period.utc_end,
                   scope.where(Accompaniment.site_id))
            .order_by(Accompaniment.started_at, Accompaniment.id))


def _workshop_links(scope: Scope, period: Period) -> tuple[dict[int, list[Any]],
                                                           dict[int, list[Any]]]:
    """Themes and sub-themes of the workshops given in the period (a catalogue, not a log)."""
    ids = list(db.session.scalars(
        select(WorkshopSession.workshop_id).distinct()
        .where(WorkshopSession.starts_at >= period.utc_start,
               WorkshopSession.starts_at < period.utc_end,
               scope.where(WorkshopSession.site_id))))
    return (_links(WorkshopTheme, WorkshopTheme.workshop_id, WorkshopTheme.theme, ids),
            _links(WorkshopSubtheme, WorkshopSubtheme.workshop_id, WorkshopSubtheme.subtheme,
                   ids))


def _collective_rows(scope: Scope, period: Period, words: _Words) -> Iterator[list[Any]]:
    themes, subthemes = _workshop_links(scope, period)
    theme_text = {workshop: words.labels(members) for workshop, members in themes.items()}
    subtheme_text = {workshop: words.labels(members) for workshop, members in subthemes.items()}
    kind, on_site = _("Collectif"), words.label(PlaceType.ON_SITE)
    levels = {level: f"{index + 1}/{len(Level)} ({level.label})"
              for index, level in enumerate(Level)}
    for batch in _stream(_collective_query(scope, period)):
        for (starts, ends, site, workshop_id, title, equipment, level, first, last, commune,
             postcode, gender, birth_year, status, animator) in batch:
            local = _day(starts)
            yield [local, kind, site, on_site,
                   int((ends - starts).total_seconds() // 60), title, words.label(equipment),
                   theme_text.get(workshop_id, ""), subtheme_text.get(workshop_id, ""),
                   levels[level], "", "",
                   f"{first} {last}".strip(), commune, postcode,
                   words.label(gender), words.age(birth_year, local.year), words.label(status),
                   animator or "", ""]


def _individual_rows(scope: Scope, period: Period, words: _Words) -> Iterator[list[Any]]:
    kind = _("Individuel")
    levels = {level: f"{index + 1}/{len(Autonomy)} ({level.label})"
              for index, level in enumerate(Autonomy)}
    for batch in _stream(_individual_query(scope, period)):
        ids = [row[0] for row in batch]
        themes = _links(AccompanimentTheme, AccompanimentTheme.accompaniment_id,
                        AccompanimentTheme.theme, ids)
        subthemes = _links(AccompanimentSubtheme, AccompanimentSubtheme.accompaniment_id,
                           AccompanimentSubtheme.subtheme, ids)
        for (help_id, started, minutes, place, equipment, autonomy_, summary, referred,
             referred_to, commune, postcode, gender, bracket, status, site, person_id, first,
             last, person_commune, person_postcode, person_gender, birth_year,
             person_status, staff_name) in batch:
            local = _day(started)
            if person_id is not None:
                who = f"{first} {last}".strip()
                commune, postcode = person_commune, person_postcode
                gender, status = person_gender, person_status
                age = words.age(birth_year, local.year)
            else:
                who = ""
                age = words.bracket(bracket or reports.UNDISCLOSED)
            yield [local, kind, site, words.label(place), minutes, "",
                   words.label(equipment), words.labels(themes.get(help_id, [])),
                   words.labels(subthemes.get(help_id, [])),
                   levels[autonomy_] if autonomy_ else "", words.yes_no(referred),
                   referred_to, who, commune or "", postcode or "",
                   words.label(gender or Gender.UNDISCLOSED), age,
                   words.label(status or SocialStatus.UNDISCLOSED), staff_name or "", summary]


def activities(scope: Scope, period: Period) -> Table:
    """Collective accompaniments (one per person present at a workshop) then individual help,
    each in date order."""

    def rows() -> Iterator[Sequence[Any]]:
        words = _Words()
        yield from _collective_rows(scope, period, words)
        yield from _individual_rows(scope, period, words)

    return Table([str(header) for header in ACTIVITY_HEADERS], rows())


# --- 3. cheques taken ---------------------------------------------------------------------

def _cheques_query(scope: Scope, period: Period) -> Select[Any]:
    service = aliased(WorkshopSession)
    return (select(Cheque.number, ChequeProgramme.name, Cheque.value_cents, Cheque.redeemed_at,
                   Site.name, Workshop.title, Accompaniment.summary, StaffMember.full_name,
                   Document.number)
            .select_from(Cheque)
            .join(ChequeProgramme, ChequeProgramme.id == Cheque.programme_id)
            .outerjoin(Site, Site.id == Cheque.site_id)
            .outerjoin(Booking, Booking.id == Cheque.booking_id)
            .outerjoin(service, service.id == Booking.session_id)
            .outerjoin(Workshop, Workshop.id == service.workshop_id)
            .outerjoin(Accompaniment, Accompaniment.id == Cheque.accompaniment_id)
            .outerjoin(StaffMember, StaffMember.id == Cheque.redeemed_by_id)
            .outerjoin(Document, Document.id == Cheque.receipt_id)
            .where(Cheque.redeemed_at.is_not(None),
                   Cheque.redeemed_at >= period.utc_start, Cheque.redeemed_at < period.utc_end,
                   scope.where(Cheque.site_id))
            .order_by(Cheque.redeemed_at, Cheque.id))


def cheques(scope: Scope, period: Period) -> Table:
    headers = [_("Numéro"), _("Dispositif"), _("Valeur (€)"), _("Date"), _("Heure"),
               _("Lieu"), _("Prestation"), _("Membre de l'équipe"), _("Numéro de reçu")]

    def rows() -> Iterator[Sequence[Any]]:
        helped = _("Aide individuelle")
        for batch in _stream(_cheques_query(scope, period)):
            for number, programme, cents, at, site, workshop, summary, staff, receipt in batch:
                service = workshop or (_("Aide individuelle : %(what)s", what=summary)
                                       if summary else helped)
                yield [number, programme, _euros(cents), _day(at), _hour(at), site or "",
                       service, staff or "", receipt or ""]

    return Table(headers, rows())


# --- 4. people of a site ------------------------------------------------------------------

def _people_query(scope: Scope) -> Select[Any]:
    return (select(Beneficiary.id, Beneficiary.first_name, Beneficiary.last_name,
                   Beneficiary.phone, Beneficiary.email, Beneficiary.birth_year,
                   Beneficiary.commune, Beneficiary.postcode, Beneficiary.gender,
                   Beneficiary.social_status, Beneficiary.created_at,
                   Beneficiary.last_activity_at)
            .where(Beneficiary.anonymised_at.is_(None), Beneficiary.merged_into_id.is_(None),
                   scope.where(Beneficiary.home_site_id))
            .order_by(Beneficiary.last_name, Beneficiary.first_name, Beneficiary.id))


def people(scope: Scope, _period: Period | None = None) -> Table:
    """Everyone whose home is the site (the period does not apply): no anonymised record,
    no record merged into another."""
    headers = [_("Numéro"), _("Prénom"), _("Nom"), _("Téléphone"), _("E-mail"),
               _("Année de naissance"), _("Commune"), _("Code postal"), _("Genre"),
               _("Statut"), _("Inscrit le"), _("Dernière activité")]

    def rows() -> Iterator[Sequence[Any]]:
        words = _Words()
        for batch in _stream(_people_query(scope)):
            for (number, first, last, phone, email, birth_year, commune, postcode, gender,
                 status, created, last_seen) in batch:
                yield [number, first, last, phone, email, birth_year, commune, postcode,
                       words.label(gender), words.label(status), _day(created),
                       _day(last_seen)]

    return Table(headers, rows())


# --- counting, building, auditing ---------------------------------------------------------

def _count(statement: Select[Any]) -> int:
    return int(db.session.scalar(select(func.count()).select_from(
        statement.order_by(None).subquery())) or 0)


def count(kind: Kind, scope: Scope, period: Period) -> int:
    """How many rows the export will have (COUNT queries, nothing fetched)."""
    if kind is Kind.ATTENDANCE:
        return _count(_attendance_query(scope, period))
    if kind is Kind.ACTIVITIES:
        return (_count(_collective_query(scope, period))
                + _count(_individual_query(scope, period)))
    if kind is Kind.CHEQUES:
        return _count(_cheques_query(scope, period))
    return _count(_people_query(scope))


_BUILDERS: Mapping[Kind, Callable[[Scope, Period], Table]] = {
    Kind.ATTENDANCE: attendance, Kind.ACTIVITIES: activities, Kind.CHEQUES: cheques,
    Kind.PEOPLE: people,
}


def table(kind: Kind, scope: Scope, period: Period) -> Table:
    return _BUILDERS[kind](scope, period)


def check_size(fmt: Format, rows: int) -> None:
    """A spreadsheet sheet holds :data:`XLSX_MAX_ROWS` rows with its header; XlsxWriter would
    drop the rest without a word, so a larger export is refused in words (CSV has no limit)."""
    if fmt is Format.XLSX and rows > XLSX_MAX_ROWS:
        shown = format(rows, ",").replace(",", "\u202f")
        message = _("Ce fichier aurait %(rows)s lignes, plus qu'un tableur XLSX n'en contient "
                    "(1 048 575). Choisissez le format CSV ou une période plus courte.",
                    rows=shown)
        raise ValidationFailed("export_too_large", message, fields={"format": message})


def filename(kind: Kind, scope: Scope, period: Period, fmt: Format) -> str:
    """``presences-MER-2026-11-01-2026-11-30.csv``: what, where, when."""
    return (f"{kind.value}-{scope.code}-{period.first.isoformat()}-{period.last.isoformat()}"
            f".{fmt.value}") if kind is not Kind.PEOPLE else (
        f"{kind.value}-{scope.code}-{clock.today_local().isoformat()}.{fmt.value}")


def record(actor: Actor, kind: Kind, scope: Scope, period: Period, fmt: Format,
           rows: int) -> None:
    """Audit an export (what, where, when, how many rows — no personal data), committed."""
    details: dict[str, Any] = {"format": fmt.value, "rows": rows}
    if kind is not Kind.PEOPLE:
        details.update(first=period.first.isoformat(), last=period.last.isoformat())
    if scope.is_network:
        details["network"] = True
    audit.record(actor, f"export.{kind.audit_name}", site_id=scope.site_id, **details)
    db.session.commit()

