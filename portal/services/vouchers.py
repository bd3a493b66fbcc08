"""APTIC cheques taken for a service — a booking at check-in, or an individual help — :
normalise, check, redeem all or nothing, then the receipt.

A cheque is redeemed once in the whole network (docs/security.md#cheque-redemption): a known
cheque by a conditional ``UPDATE … WHERE redeemed_at IS NULL``, a new one by an ``INSERT`` that the
``UNIQUE (programme_id, number)`` constraint refuses the second time. Either way the loser
learns when and where the cheque was taken. The service's row (the booking, the individual
help) is locked first, so two devices taking cheques for the same person cannot together take
more than the service costs.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, case, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from portal.clock import now, today_local
from portal.extensions import db
from portal.formatting import day, euros, full_date, hour
from portal.models.bookings import Accompaniment, Booking
from portal.models.documents import Document
from portal.models.vocab import BookingStatus
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import documents
from portal.services.audit import Actor, record
from portal.services.errors import Conflict
from portal.services.issuing import IN_PREPARATION, RenderFailed
from portal.services.locking import lock_row
from portal.services.staff_access import Action, require_actor

log = logging.getLogger(__name__)

#: more than this in one go is a typing accident, not a payment.
MAX_CHEQUES_AT_ONCE = 20
#: inside a number, dashes (typographic ones too) and dots are only printed grouping.
_INSIDE = re.compile(r"[\-\u2010-\u2015.]+")
#: between numbers: any white space (a scanner's Enter, a space, a tab), a comma, a semicolon.
_BETWEEN = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Refusal:
    number: str
    code: str
    message: str


class ChequesRefused(Conflict):
    """One or more cheques of an entry cannot be taken; none of them was."""

    def __init__(self, refusals: list[Refusal]) -> None:
        first = refusals[0]
        super().__init__(first.code, first.message, refusals=refusals)
        self.refusals = refusals


@dataclass
class Redemption:
    cheques: list[Cheque]
    receipt: Document | None
    #: cheques the workshop still asks for after these.
    still_owed: int
    receipt_failed: bool = False
    numbers: list[str] = field(default_factory=list)


def create_programme(*, name: str, issuer: str, operator: str, number_pattern: str,
                     validity_end: date, actor: Actor, face_value_cents: int = 1000,
                     grace_days: int = 31) -> ChequeProgramme:
    """A cheque programme (an issuer's booklets of one year, say): data, never hard-coded.
    The rules (and the screen's path) are ``services/programmes.py``."""
    from portal.services import programmes

    return programmes.create_programme(
        name=name, issuer=issuer, operator=operator, number_pattern=number_pattern,
        validity_end=validity_end, actor=actor, face_value_cents=face_value_cents,
        grace_days=grace_days)


def normalise_number(raw: str) -> str:
    """One number as docs/domain.md#cheque-numbers says: trimmed, no dashes or dots, upper case."""
    return _INSIDE.sub("", (raw or "").strip()).upper()


def split_numbers(raw: str | list[str]) -> list[str]:
    """The numbers of an entry: each space, tab, line (a scanner ends each with Enter), comma
    or semicolon starts a new one, so two numbers are never glued into a third."""
    parts = raw if isinstance(raw, list) else [raw or ""]
    return [number for part in parts for number in
            (normalise_number(p) for p in _BETWEEN.split(part)) if number]


#: a service paid by cheques: a person's booking of a session, or an individual help.
Service = Booking | Accompaniment

#: an individual help costs one cheque per started block of this many minutes (the local rule
#: "up to two hours, one cheque", docs/domain.md#cheque-redemption).
HELP_MINUTES_PER_CHEQUE = 120


def help_price(accompaniment: Accompaniment) -> int:
    """The cheques an individual help may take: one per started two hours."""
    return max(1, math.ceil(accompaniment.duration_minutes / HELP_MINUTES_PER_CHEQUE))


@dataclass(frozen=True)
class _Paid:
    """What the cheque rules need to know of a service, whichever it is."""

    kind: str  # the audit's object type
    id: int
    site_id: int
    price: int
    column: InstrumentedAttribute[int | None]  # the cheque's link to it
    links: dict[str, int | None]  # the cheque's two links once it pays this service
    details: dict[str, Any]  # audited with the redemption
    too_many: str  # "this service costs N cheques"


def _paid(service: Service) -> _Paid:
    if isinstance(service, Booking):
        session = service.session
        price = session.workshop.price_cheques
        return _Paid("booking", service.id, session.site_id, price, Cheque.booking_id,
                     {"booking_id": service.id, "accompaniment_id": None},
                     {"session_id": session.id, "beneficiary_id": service.beneficiary_id},
                     ngettext("Cet atelier coûte %(num)d chèque",
                              "Cet atelier coûte %(num)d chèques", price))
    price = help_price(service)
    return _Paid("accompaniment", service.id, service.site_id, price, Cheque.accompaniment_id,
                 {"booking_id": None, "accompaniment_id": service.id},
                 {"beneficiary_id": service.beneficiary_id},
                 ngettext("Cet accompagnement coûte %(num)d chèque",
                          "Cet accompagnement coûte %(num)d chèques", price))


def cheques_taken(service: Service) -> int:
    paid = _paid(service)
    return db.session.scalar(
        db.select(func.count(Cheque.id)).where(paid.column == paid.id,
                                               Cheque.redeemed_at.is_not(None))) or 0


#: who may pay for a workshop with cheques: the people holding a seat.
PAYABLE = (BookingStatus.BOOKED, BookingStatus.PRESENT)


@dataclass(frozen=True)
class Payment:
    """Where a booking stands with the cheques its workshop asks for."""

    price: int  # cheques the workshop costs
    paid: int  # cheques taken for this booking
    unreceipted: int  # taken, but their receipt is not printed yet (see without_receipt)
    payable: bool  # the person holds a seat: cheques may be taken

    @property
    def owed(self) -> int:
        """Cheques still owed: none by someone absent, excused or waiting."""
        return max(self.price - self.paid, 0) if self.payable else 0


@lru_cache(maxsize=1)
def _payments_statement() -> Any:
    """The statement of :func:`payments`, built once (the bookings' ids bound per call)."""
    return (
        db.select(Cheque.booking_id, func.count(Cheque.id),
                  func.sum(case((or_(Cheque.receipt_id.is_(None),
                                     Document.sha256.is_(None)), 1), else_=0)))
        .outerjoin(Document, Cheque.receipt_id == Document.id)
        .where(Cheque.booking_id.in_(bindparam("ids", expanding=True)),
               Cheque.redeemed_at.is_not(None))
        .group_by(Cheque.booking_id)
    )


def payments(bookings: list[Booking]) -> dict[int, Payment]:
    """Each booking's :class:`Payment`, by booking id: one query whatever their number."""
    taken: dict[int, tuple[int, int]] = {}
    if bookings:
        for booking_id, count, unreceipted in db.session.execute(
                _payments_statement(), {"ids": [b.id for b in bookings]}):
            taken[booking_id] = (int(count), int(unreceipted or 0))
    return {b.id: Payment(b.session.workshop.price_cheques, *taken.get(b.id, (0, 0)),
                          payable=b.status in PAYABLE) for b in bookings}


def payment(booking: Booking) -> Payment:
    return payments([booking])[booking.id]


def help_payment(accompaniment: Accompaniment) -> Payment:
    """Where an individual help stands with its cheques (always payable)."""
    return Payment(help_price(accompaniment), cheques_taken(accompaniment),
                   len(without_receipt(accompaniment)), payable=True)


def active_programmes() -> list[ChequeProgramme]:
    return list(db.session.scalars(
        db.select(ChequeProgramme).filter_by(is_active=True).order_by(ChequeProgramme.name)))


def _where_and_when(cheque: Cheque) -> str:
    taken = cheque.redeemed_at
    assert taken is not None
    place = cheque.site.name if cheque.site else _("un autre lieu du réseau")
    return _("Chèque %(number)s déjà pris le %(day)s à %(hour)s (%(place)s).",
             number=cheque.number, day=day(taken), hour=hour(taken), place=place)


def _expired(programme: ChequeProgramme, number: str) -> Refusal | None:
    if today_local() <= programme.accepted_until:
        return None
    return Refusal(number, "cheque_expired",
                   _("Chèque %(number)s périmé : il était accepté jusqu'au %(day)s.",
                     number=number, day=full_date(programme.accepted_until)))


def _matches(pattern: str, number: str) -> bool:
    try:
        return re.fullmatch(pattern, number) is not None
    except re.error:  # a broken pattern accepts nothing rather than failing the check-in
        log.error("invalid cheque number pattern %r", pattern)
        return False


def _check_number(number: str, programmes: list[ChequeProgramme],
                  chosen: ChequeProgramme | None) -> tuple[Cheque | ChequeProgramme | None,
                                                          Refusal | None]:
    """The known cheque (or the programme a new one belongs to), or why it is refused."""
    known = list(db.session.scalars(db.select(Cheque).filter_by(number=number)))
    if chosen is not None:
        known = [c for c in known if c.programme_id == chosen.id]
    if len(known) == 1:
        cheque = known[0]
        if cheque.redeemed_at is not None:
            return None, Refusal(number, "cheque_already_redeemed", _where_and_when(cheque))
        if not cheque.programme.is_active:
            return None, Refusal(number, "programme_closed",
                                 _("Chèque %(number)s : le dispositif « %(name)s » n'est plus "
                                   "accepté.", number=number, name=cheque.programme.name))
        return cheque, _expired(cheque.programme, number)
    candidates = [chosen] if chosen is not None else programmes
    matching = [p for p in candidates if _matches(p.number_pattern, number)]
    if len(known) > 1 or len(matching) > 1:
        return None, Refusal(number, "programme_ambiguous",
                             _("Chèque %(number)s : choisissez son dispositif dans la liste.",
                               number=number))
    if not matching:
        return None, Refusal(number, "cheque_number_invalid",
                             _("« %(number)s » n'est pas un numéro de chèque accepté. "
                               "Vérifiez le numéro imprimé sous le code-barres.",
                               number=number))
    return matching[0], _expired(matching[0], number)


def redeem_cheques(service: Service, raw: str | list[str], *, actor: Actor,
                   programme_id: int | None = None) -> Redemption:
    """Take the cheques entered for a service (a booking, an individual help): all of them,
    or none with every reason."""
    paid = _paid(service)
    require_actor(actor, Action.TAKE_CHEQUES, paid.site_id)
    price = paid.price
    if isinstance(service, Booking):
        if price == 0:
            raise Conflict("cheques_not_needed",
                           _("Cet atelier est gratuit : aucun chèque à prendre."))
        if service.status not in PAYABLE:
            raise Conflict("booking_not_payable",
                           _("Des chèques ne se prennent que pour une personne inscrite ou "
                             "présente."))
    numbers = split_numbers(raw)
    if not numbers:
        raise Conflict("cheque_number_missing",
                       _("Scannez ou tapez le numéro d'au moins un chèque."))
    if len(numbers) > MAX_CHEQUES_AT_ONCE:
        raise Conflict("too_many_cheques",
                       _("Pas plus de %(num)d chèques à la fois.", num=MAX_CHEQUES_AT_ONCE))
    refusals = [Refusal(n, "cheque_entered_twice",
                        _("Le chèque %(number)s est saisi deux fois.", number=n))
                for i, n in enumerate(numbers) if n in numbers[:i]]
    if refusals:
        raise ChequesRefused(refusals)
    programmes = active_programmes()
    chosen = db.session.get(ChequeProgramme, programme_id) if programme_id else None
    if programme_id and (chosen is None or not chosen.is_active):
        raise Conflict("programme_unknown", _("Choisissez un dispositif dans la liste."))

    # Lock the service's row first: every later read sees what other devices committed.
    if isinstance(service, Booking):
        lock_row(Booking, service.id, "status_changed_at")
    else:
        lock_row(Accompaniment, service.id, "duration_minutes")
    left = max(price - cheques_taken(service), 0)
    if len(numbers) > left:
        db.session.rollback()
        raise Conflict(
            "cheques_too_many",
            paid.too_many
            + " ; " + ngettext("il en reste %(num)d à payer.", "il en reste %(num)d à payer.",
                               left)
            + " " + _("Un chèque ne se rend pas : n'en prenez pas plus."), still_owed=left)
    checked = [(n, *_check_number(n, programmes, chosen)) for n in numbers]
    refusals = [refusal for _n, _found, refusal in checked if refusal is not None]
    if refusals:
        db.session.rollback()
        raise ChequesRefused(refusals)
    at = now()
    staff_id = actor.staff_id
    taken: list[Cheque] = []
    current = numbers[0]
    try:
        for number, found, _refusal in checked:
            current = number
            if isinstance(found, Cheque):
                won = db.session.execute(
                    update(Cheque).where(Cheque.id == found.id, Cheque.redeemed_at.is_(None))
                    .values(redeemed_at=at, redeemed_by_id=staff_id, site_id=paid.site_id,
                            **paid.links),
                    execution_options={"synchronize_session": False}).rowcount
                if won != 1:
                    raise _Lost(number)
                taken.append(found)
            else:
                assert isinstance(found, ChequeProgramme)
                cheque = Cheque(programme_id=found.id, number=number,
                                value_cents=found.face_value_cents, registered_at=at,
                                redeemed_at=at, redeemed_by_id=staff_id,
                                site_id=paid.site_id, **paid.links)
                db.session.add(cheque)
                db.session.flush()
                taken.append(cheque)
    except (IntegrityError, _Lost):  # another device took one of them a moment ago
        db.session.rollback()
        raise ChequesRefused([_refusal_after_race(current)]) from None
    record(actor, "cheques.redeemed", object_type=paid.kind, object_id=paid.id,
           site_id=paid.site_id, **paid.details, cheques=numbers,
           total_cents=sum(c.value_cents for c in taken))
    db.session.commit()
    for cheque in taken:
        db.session.refresh(cheque)
    redemption = Redemption(taken, None, max(left - len(taken), 0), numbers=numbers)
    redemption.receipt, redemption.receipt_failed = _receipt(taken, actor)
    return redemption


class _Lost(Exception):
    """A known cheque was redeemed by someone else between the check and the update."""


def _refusal_after_race(number: str) -> Refusal:
    cheque = db.session.scalar(db.select(Cheque).filter_by(number=number)
                               .where(Cheque.redeemed_at.is_not(None)))
    if cheque is not None:
        return Refusal(number, "cheque_already_redeemed", _where_and_when(cheque))
    return Refusal(number, "cheque_busy",
                   _("Chèque %(number)s : il vient d'être saisi sur un autre appareil. "
                     "Recommencez.", number=number))


def _receipt(cheques: list[Cheque], actor: Actor) -> tuple[Document | None, bool]:
    """The numbered receipt, issued at once. The cheques stay taken if printing fails:
    the receipt can be issued again from the roster (``issue_missing_receipt``)."""
    try:
        return documents.issue_receipt(cheques, actor=actor), False
    except Exception:  # the renderer's time limit or crash must not undo a payment
        db.session.rollback()
        log.exception("receipt not issued for cheques %s", [c.id for c in cheques])
        return None, True


def without_receipt(service: Service) -> list[Cheque]:
    """Cheques taken for this service whose receipt is not printed yet: on no receipt, or on
    a numbered receipt whose rendering failed (pending)."""
    paid = _paid(service)
    return list(db.session.scalars(
        db.select(Cheque).outerjoin(Document, Cheque.receipt_id == Document.id)
        .where(paid.column == paid.id, Cheque.redeemed_at.is_not(None),
               or_(Cheque.receipt_id.is_(None), Document.sha256.is_(None)))
        .order_by(Cheque.id)))


def issue_missing_receipt(service: Service, *, actor: Actor) -> Document:
    """The receipt for this service's cheques not printed yet: a numbered receipt whose
    render failed is completed under its number, cheques on none get a new one."""
    require_actor(actor, Action.TAKE_CHEQUES, _paid(service).site_id)
    waiting = without_receipt(service)
    if not waiting:
        raise Conflict("receipt_exists", _("Un reçu existe déjà pour ces chèques."))
    numbered = sorted({c.receipt_id for c in waiting if c.receipt_id is not None})
    try:
        if numbered:
            receipt = db.session.get(Document, numbered[0])
            assert receipt is not None
            return documents.complete_document(receipt, actor=actor)
        return documents.issue_receipt(waiting, actor=actor)
    except RenderFailed as error:
        if error.code != IN_PREPARATION:
            raise
        raise Conflict("receipt_exists", _("Le reçu de ces chèques est en préparation sur un "
                                           "autre appareil.")) from None


def receipts_of(service: Service) -> list[Document]:
    """The receipts issued for a service's cheques, newest first."""
    paid = _paid(service)
    return list(db.session.scalars(
        db.select(Document).where(Document.id.in_(
            db.select(Cheque.receipt_id).where(paid.column == paid.id)))
        .order_by(Document.id.desc())))


def total(cheques: list[Cheque]) -> str:
    return euros(sum(c.value_cents for c in cheques))
