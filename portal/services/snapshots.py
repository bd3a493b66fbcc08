"""What each document prints: its snapshot, built from the domain's objects.

A snapshot is plain JSON data, stored with the document and enough to render it again. It is
written in the document's own language (``lang``): dates, amounts and counts are formatted
here with that language, never with the language of the screen that issued the document.

Builders only read the objects they are given (no query, no clock, no commit), so the
samples of ``portal/pdf/samples.py`` go through them with objects that were never stored:
what a sample shows is what the service issues. The services (``documents.py``) load the
rows, choose the moment and number the result (``numbered``).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale

from portal.clock import local
from portal.formatting import (
    DOCUMENT_LANG,
    amount_in_words,
    count,
    date_long,
    day,
    duration,
    euros,
    full_date,
    hour,
    month_year,
    upper_first,
)
from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Course, WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.types import LabelledEnum
from portal.models.vocab import BookingSource, BookingStatus
from portal.models.vouchers import Cheque
from portal.services.codes import group

#: the statuses an attendance sheet lists, with the word printed for each.
ATTENDANCE_LABELS = {BookingStatus.PRESENT: "Présent", BookingStatus.ABSENT: "Absent",
                     BookingStatus.EXCUSED: "Excusé", BookingStatus.BOOKED: ""}
#: printed above the receipt's signature when the site has not set its own wording.
RECEIPT_SIGNATORY_ROLE = "Le régisseur ou son mandataire"


def label(member: LabelledEnum, lang: str = DOCUMENT_LANG) -> str:
    """A vocabulary label in the document's language (not the reader's)."""
    with force_locale(lang):
        return str(member.label)


def site_data(site: Site) -> dict[str, Any]:
    """The issuer, as printed in the head and at the foot of every document."""
    return {key: getattr(site, key) or "" for key in (
        "name", "address", "postcode", "city", "phone", "aptic_accreditation",
        "other_accreditation", "signatory_name", "signatory_role")}


def numbered(snapshot: dict[str, Any], number: str, *, code: str | None = None,
             verify_url: str | None = None) -> dict[str, Any]:
    """The snapshot with its number and, for a certificate, its verification code and URL
    (``verify_url`` is a format string with ``{code}``)."""
    result = {**snapshot, "number": number}
    if code is not None:
        result["code_display"] = group(code)
        result["verify_url"] = (verify_url or "/v/{code}").format(code=code)
    return result


def _quoted(title: str) -> str:
    return f"«\u202f{title}\u202f»"


# --- attestations -----------------------------------------------------------------------------


def certificate(booking: Booking, *, issued_at: datetime,
                lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """An attestation de participation for one session attended.

    Its mentions are those of docs/domain.md#certificate-mentions.
    """
    session = booking.session
    workshop = session.workshop
    site = session.site
    person = booking.beneficiary
    return {
        "lang": lang,
        "site": site_data(site),
        "doc_title": "Attestation de participation",
        **_person(person),
        "action_phrase": "a participé à l’atelier",
        "title": workshop.title,
        "nature": "atelier collectif de médiation numérique",
        "dates_phrase": f"Le {day(session.starts_at, lang)}, de {hour(session.starts_at, lang)} "
                        f"à {hour(session.ends_at, lang)}",
        "first_date": session.starts_at.isoformat(),
        "last_date": session.ends_at.isoformat(),
        "duration": duration(workshop.duration_minutes),
        "place": ", ".join(p for p in (site.name, session.room) if p),
        "objectives": workshop.objective_list,
        "issued_on": full_date(local(issued_at).date(), lang),
    }


def course_certificate(course: Course, person: Beneficiary, sessions: Sequence[WorkshopSession],
                       attended: int, *, issued_at: datetime,
                       lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """An attestation de fin de parcours; ``sessions`` are those given, in order."""
    first, last = sessions[0], sessions[-1]
    given = len(sessions)
    if given == 1:
        dates = f"Le {day(first.starts_at, lang)}"
    else:
        dates = f"Du {day(first.starts_at, lang)} au {day(last.starts_at, lang)}"
    followed = count(attended, "%(num)s séance suivie", "%(num)s séances suivies", lang)
    return {
        "lang": lang,
        "site": site_data(course.site),
        "doc_title": "Attestation de fin de parcours",
        **_person(person),
        "action_phrase": "a suivi le parcours",
        "title": course.title,
        "nature": "parcours de médiation numérique en "
                  + count(given, "%(num)s séance collective", "%(num)s séances collectives",
                          lang),
        "dates_phrase": f"{dates}, {followed} sur {given}",
        "first_date": first.starts_at.isoformat(),
        "last_date": last.ends_at.isoformat(),
        "duration": duration(sum(s.workshop.duration_minutes for s in sessions)),
        "place": course.site.name,
        "objectives": course.objective_list,
        "issued_on": full_date(local(issued_at).date(), lang),
    }


def _person(person: Beneficiary) -> dict[str, str]:
    return {"person_name": person.display_name, "person_first_name": person.first_name,
            "person_public_name": person.first_name_and_initial}


# --- receipts ---------------------------------------------------------------------------------


def receipt(cheques: Sequence[Cheque], *, site: Site, person: Beneficiary | None,
            staff: StaffMember | None, booking: Booking | None = None,
            accompaniment: Accompaniment | None = None,
            lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """The numbered receipt of cheques taken together for one service (régie de recettes):
    the amount in figures and in words, the staff member and their role at the site."""
    if booking is not None:
        session = booking.session
        price = session.workshop.price_cheques
        service = {"kind": "Atelier", "title": session.workshop.title,
                   "when": f"Séance du {day(session.starts_at, lang)}, de "
                           f"{hour(session.starts_at, lang)} à {hour(session.ends_at, lang)}",
                   "place": ", ".join(p for p in (site.name, session.room) if p),
                   "price": count(price, "%(num)s chèque", "%(num)s chèques", lang)
                   if price else ""}
    else:
        service = {"kind": "Accompagnement individuel",
                   "title": accompaniment.summary if accompaniment else "",
                   "when": day(accompaniment.started_at, lang) if accompaniment else "",
                   "place": site.name, "price": ""}
    total = sum(c.value_cents for c in cheques)
    taken_at = max(c.redeemed_at for c in cheques if c.redeemed_at)
    role = staff.role_at(site.id) if staff is not None else None
    return {
        "lang": lang,
        "site": site_data(site),
        "doc_title": "Reçu de chèques APTIC",
        "issued_on": f"{day(taken_at, lang)} à {hour(taken_at, lang)}",
        "person_name": person.display_name if person else "",
        "service": service,
        "cheques": [{"number": group(c.number), "programme": c.programme.name,
                     "value": euros(c.value_cents, lang)} for c in cheques],
        "cheque_count": count(len(cheques), "%(num)s chèque", "%(num)s chèques", lang),
        "total": euros(total, lang),
        "total_words": amount_in_words(total, lang),
        "staff_name": staff.full_name if staff else "",
        "staff_role": label(role, lang).lower() if role is not None else "",
        "signatory_role": site.receipt_signatory_role or RECEIPT_SIGNATORY_ROLE,
        "regie_mention": site.regie_mention or "",
    }


# --- attendance sheets ------------------------------------------------------------------------


def attendance_sheet(session: WorkshopSession, bookings: Sequence[Booking], *,
                     issued_at: datetime, lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """The sheet of a session, one row per booking in ``bookings`` (in the order given).

    Before the check-in (nobody marked yet) only the number booked is printed: the other
    totals are left blank, to be filled in by hand."""
    marked = {b.status for b in bookings} - {BookingStatus.BOOKED}
    totals = {"booked": str(len(bookings))}
    if marked:
        for key, status in (("present", BookingStatus.PRESENT), ("absent", BookingStatus.ABSENT),
                            ("excused", BookingStatus.EXCUSED)):
            totals[key] = str(sum(1 for b in bookings if b.status is status))
    return {
        "lang": lang,
        "site": site_data(session.site),
        "doc_title": "Feuille d’émargement",
        "issued_on": f"{full_date(local(issued_at).date(), lang)} à {hour(issued_at, lang)}",
        "workshop_title": session.workshop.title,
        "date": upper_first(day(session.starts_at, lang)),
        "times": f"{hour(session.starts_at, lang)} – {hour(session.ends_at, lang)}",
        "room": session.room or "",
        "animator": session.animator.full_name if session.animator else "",
        "rows": [{"name": b.beneficiary.display_name, "status": ATTENDANCE_LABELS[b.status],
                  "status_key": b.status.value if b.status is not BookingStatus.BOOKED else "",
                  "note": "Sans inscription" if b.source is BookingSource.WALK_IN else ""}
                 for b in bookings],
        "totals": totals,
    }


# --- login cards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Card:
    """One card to print: the person, and their first-login code if they have none yet."""

    person: Beneficiary
    code: str | None = None
    expires_at: datetime | None = None


#: what a stored card shows instead of the code (the code lives only on paper).
HIDDEN_CODE = "••••-••••"


def login_cards(site: Site, cards: Sequence[Card], *, portal_address: str,
                lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """Cards of 85.6 × 54 mm, ten a sheet: identifier, its QR code, the first-login code."""
    return {
        "lang": lang,
        "site": site_data(site),
        "doc_title": "Carte d’accès au portail" if len(cards) == 1
        else "Cartes d’accès au portail",
        "portal_address": portal_address,
        "cards": [{"name": card.person.display_name,
                   "identifier": card.person.login_id_display,
                   "qr_text": card.person.login_id,
                   "code": group(card.code) if card.code else "",
                   "code_expires": full_date(local(card.expires_at).date(), lang)
                   if card.code and card.expires_at else ""}
                  for card in cards],
    }


def without_codes(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A login-card snapshot fit for storing: the first-login codes are hidden."""
    return {**snapshot, "cards": [{**card, "code": HIDDEN_CODE if card["code"] else ""}
                                  for card in snapshot["cards"]]}


# --- deposit slips ----------------------------------------------------------------------------


def deposit_slip(site: Site, year: int, month: int, cheques: Sequence[Cheque], *,
                 bookings: Mapping[int, Booking], accompaniments: Mapping[int, Accompaniment],
                 issued_at: datetime, lang: str = DOCUMENT_LANG) -> dict[str, Any]:
    """Every cheque a site took in a month, grouped by programme (in the order given), as
    staff key them into the operator's console; totals and the régisseur."""
    programmes: dict[int, dict[str, Any]] = {}
    for cheque in cheques:
        entry = programmes.setdefault(cheque.programme_id, {
            "name": cheque.programme.name, "operator": cheque.programme.operator,
            "cheques": [], "cents": 0})
        entry["cheques"].append({
            "number": group(cheque.number),
            "value": euros(cheque.value_cents, lang),
            "taken_on": local(cheque.redeemed_at).strftime("%d/%m/%Y")
            if cheque.redeemed_at else "",
            "service": _service(cheque, bookings, accompaniments),
            "staff": _short_name(cheque.redeemed_by.full_name) if cheque.redeemed_by else ""})
        entry["cents"] += cheque.value_cents
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    total_cents = sum(p["cents"] for p in programmes.values())
    regisseur_name = site.regisseur_name or site.signatory_name or ""
    return {
        "lang": lang,
        "site": site_data(site),
        "doc_title": "Bordereau de remise de chèques",
        "period": f"{year:04d}-{month:02d}",
        "month": month_year(first, lang),
        "period_phrase": f"Chèques reçus du {date_long(first, lang).split()[0]} "
                         f"au {full_date(last, lang)}",
        "issued_on": full_date(local(issued_at).date(), lang),
        "programmes": [{"name": p["name"], "operator": p["operator"], "cheques": p["cheques"],
                        "count": _cheques(len(p["cheques"]), lang),
                        "count_number": str(len(p["cheques"])),
                        "value": euros(p["cents"], lang)}
                       for p in programmes.values()],
        "total_count": _cheques(len(cheques), lang),
        "total_count_number": str(len(cheques)),
        "total_value": euros(total_cents, lang),
        "regisseur_name": regisseur_name,
        "regisseur_role": site.regisseur_role if site.regisseur_name
        else site.signatory_role or "",
        "regie_mention": site.regie_mention or "",
    }


def _cheques(number: int, lang: str) -> str:
    return count(number, "%(num)s chèque", "%(num)s chèques", lang)


def _service(cheque: Cheque, bookings: Mapping[int, Booking],
             accompaniments: Mapping[int, Accompaniment]) -> str:
    booking = bookings.get(cheque.booking_id) if cheque.booking_id else None
    if booking is not None:
        return f"Atelier {_quoted(booking.session.workshop.title)}"
    accompaniment = accompaniments.get(cheque.accompaniment_id) \
        if cheque.accompaniment_id else None
    if accompaniment is not None and accompaniment.summary:
        return f"Accompagnement individuel – {accompaniment.summary}"
    return "Accompagnement individuel"


def _short_name(full_name: str) -> str:
    """``Karim Benali`` → ``K. Benali``; ``Jean-Pierre Lefebvre`` → ``J.-P. Lefebvre``."""
    first, _space, rest = full_name.strip().partition(" ")
    if not rest:
        return first
    initials = "-".join(f"{part[:1]}." for part in first.split("-") if part)
    return f"{initials}\u00a0{rest}"
