"""Cheque programmes: created and edited by a network administrator (they belong to no site),
listed with their cheques for the staff who see the cheques of a site.

The number pattern is a regular expression a normalised cheque number must match in full
(``services/vouchers.py``). It is run at every check-in, on text typed or scanned at the desk,
so it is kept to a shape that cannot backtrack catastrophically (docs/security.md):

- at most ``PATTERN_MAX`` characters; it compiles; it refuses an empty number;
- a quantifier applies to one character or one class only (``[0-9]{10}``, ``[A-Z]+``), never
  to a group: nested quantifiers such as ``(a+)+`` or ``([0-9]{2})*`` are refused;
- at most ``VARIABLE_QUANTIFIERS_MAX`` quantifiers of variable length (``+``, ``*``, ``?``,
  ``{m,n}``), so the ways of splitting a 40-character number stay few (C(44, 4));
- no back-references, look-arounds or conditionals.

Groups and alternatives stay allowed (``(PN|AP)[0-9]{8}``). The CLI's
``create-cheque-programme`` goes through :func:`create_programme` too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from re import _parser as sre_parse  # type: ignore[attr-defined]  # Python 3.11+
from re._constants import (  # type: ignore[attr-defined]
    ANY,
    ASSERT,
    ASSERT_NOT,
    GROUPREF,
    GROUPREF_EXISTS,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    NOT_LITERAL,
    POSSESSIVE_REPEAT,
)
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func

from portal.extensions import db
from portal.formatting import day
from portal.models.bookings import Booking
from portal.models.documents import Document
from portal.models.people import StaffMember
from portal.models.vocab import ActorKind
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import audit, staff_access
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound, ValidationFailed
from portal.services.staff_access import Action
from portal.services.workshops import changes, check_number, check_text

PATTERN_MAX = 100
VARIABLE_QUANTIFIERS_MAX = 4
NUMBER_MAX = 40  # the cheque.number column
TEXT_MAX = 120
FACE_VALUE_MAX = 100_000  # cents
GRACE_MAX = 366
PAGE_SIZE = 50

_REPEATS = {MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT}
_FORBIDDEN = {GROUPREF, GROUPREF_EXISTS, ASSERT, ASSERT_NOT}
#: what a quantifier may repeat: one character or one class.
_SINGLE = {LITERAL, NOT_LITERAL, IN, ANY}
_EUROS = re.compile(r"\s*([0-9]{1,4})(?:[,.]([0-9]{1,2}))?\s*(?:€|euros?)?\s*", re.I)


def _subpatterns(arg: Any) -> list[Any]:
    """The parsed sub-patterns inside one item's argument (groups, alternatives…)."""
    found = []
    for part in arg if isinstance(arg, tuple | list) else [arg]:
        for sub in part if isinstance(part, list) else [part]:
            if isinstance(sub, sre_parse.SubPattern):
                found.append(sub)
    return found


def _has_repeat(items: Any) -> bool:
    return any(op in _REPEATS or any(_has_repeat(sub) for sub in _subpatterns(arg))
               for op, arg in items)


def _walk(items: Any, counts: list[int]) -> str | None:
    """Why the parsed pattern is refused, or None."""
    for op, arg in items:
        if op in _FORBIDDEN:
            return "forbidden"
        if op in _REPEATS:
            low, high, body = arg
            single = len(body) == 1 and body[0][0] in _SINGLE
            if not single and (high > 1 or _has_repeat(body)):
                return "nested"  # a repeated group, sequence or alternative
            if low != high:
                counts[0] += 1
            if not single:  # an optional group, (PN|AP)?: what it holds is checked too
                reason = _walk(body, counts)
                if reason:
                    return reason
            continue
        for sub in _subpatterns(arg):
            reason = _walk(sub, counts)
            if reason:
                return reason
    return None


def pattern_problem(pattern: str) -> str | None:
    """Why a number pattern cannot be used (plain French), or None when it can."""
    if not pattern:
        return _("Écrivez le modèle de numéro.")
    if len(pattern) > PATTERN_MAX:
        return _("Le modèle de numéro fait %(num)d caractères au plus.", num=PATTERN_MAX)
    try:
        re.compile(pattern)
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return _("Le modèle de numéro n'est pas une expression régulière valable.")
    counts = [0]
    reason = _walk(parsed, counts)
    if reason == "forbidden":
        return _("Le modèle de numéro ne peut pas utiliser de références arrière ni de "
                 "conditions (?=, ?!, ?<=, \\1…).")
    if reason == "nested":
        return _("Le modèle de numéro ne peut pas répéter un groupe, par exemple (A+)+ ou "
                 "([0-9]{2})* : répétez seulement un caractère ou une classe, comme "
                 "[0-9]{10}.")
    if counts[0] > VARIABLE_QUANTIFIERS_MAX:
        return _("Le modèle de numéro a trop de longueurs variables (+, *, ?, {m,n}) : "
                 "%(num)d au plus.", num=VARIABLE_QUANTIFIERS_MAX)
    if re.fullmatch(pattern, ""):
        return _("Le modèle de numéro doit refuser un numéro vide.")
    return None


def try_number(pattern: str, sample: str) -> tuple[bool | None, str]:
    """The live test of the form: (does the normalised ``sample`` match, what to say)."""
    from portal.services.vouchers import normalise_number  # one normalisation for both

    problem = pattern_problem(pattern)
    if problem:
        return None, problem
    number = normalise_number("".join(sample[:NUMBER_MAX * 2].split()))
    if not number:
        return None, _("Tapez un numéro de chèque pour essayer le modèle.")
    if len(number) <= NUMBER_MAX and re.fullmatch(pattern, number):
        return True, _("« %(number)s » est accepté par ce modèle.", number=number)
    return False, _("« %(number)s » est refusé par ce modèle.", number=number)


@dataclass
class ProgrammeInput:
    """What the programme form sends, as typed."""

    name: str = ""
    issuer: str = ""
    operator: str = "APTIC"
    face_value: str = "10,00"
    number_pattern: str = r"[0-9]{10}"
    validity_end: str = ""
    grace_days: str = "31"
    is_active: bool = True

    @classmethod
    def of(cls, programme: ChequeProgramme) -> ProgrammeInput:
        cents = programme.face_value_cents
        return cls(name=programme.name, issuer=programme.issuer, operator=programme.operator,
                   face_value=f"{cents // 100},{cents % 100:02d}",
                   number_pattern=programme.number_pattern,
                   validity_end=programme.validity_end.isoformat(),
                   grace_days=str(programme.grace_days), is_active=programme.is_active)


def parse_euros(raw: str) -> int | None:
    """``10``, ``10,50``, ``10.5 €`` → cents; None for anything else."""
    match = _EUROS.fullmatch(raw or "")
    if not match:
        return None
    try:
        value = Decimal(match.group(1)) + Decimal(f"0.{match.group(2) or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        return None
    return int(value * 100)


def _check(data: ProgrammeInput) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    labels = {"name": _("Écrivez le nom du dispositif."),
              "issuer": _("Écrivez le financeur (qui achète les chèques)."),
              "operator": _("Écrivez l'opérateur (qui rembourse le lieu).")}
    for name, missing in labels.items():
        values[name] = check_text(errors, name, getattr(data, name), maximum=TEXT_MAX)
        if not values[name] and name not in errors:
            errors[name] = missing
    pattern = (data.number_pattern or "").strip()
    problem = pattern_problem(pattern)
    if problem:
        errors["number_pattern"] = problem
    values["number_pattern"] = pattern
    cents = parse_euros(data.face_value)
    if cents is None or not 1 <= cents <= FACE_VALUE_MAX:
        errors["face_value"] = _("Écrivez une valeur en euros, de 0,01 à 1 000, par exemple "
                                 "10,00.")
    values["face_value_cents"] = cents
    try:
        values["validity_end"] = date.fromisoformat((data.validity_end or "").strip())
    except ValueError:
        errors["validity_end"] = _("Écrivez la date de fin de validité des chèques.")
    values["grace_days"] = check_number(
        errors, "grace_days", data.grace_days, 0, GRACE_MAX,
        _("Écrivez un délai de grâce en jours, de 0 à %(high)d.", high=GRACE_MAX))
    values["is_active"] = bool(data.is_active)
    if errors:
        code = "pattern_invalid" if list(errors) == ["number_pattern"] else "programme_invalid"
        raise ValidationFailed(code, next(iter(errors.values())), fields=errors)
    return values


def _require_admin(actor: Actor) -> None:
    """A network administrator, or the command line (the system)."""
    if actor.kind is ActorKind.SYSTEM:
        return
    staff_access.require_network_admin(staff_access.staff_of(actor))


def _snapshot(programme: ChequeProgramme) -> dict[str, Any]:
    return {"name": programme.name, "issuer": programme.issuer,
            "operator": programme.operator, "face_value_cents": programme.face_value_cents,
            "number_pattern": programme.number_pattern,
            "validity_end": programme.validity_end.isoformat(),
            "grace_days": programme.grace_days, "is_active": programme.is_active}


def create(data: ProgrammeInput, *, actor: Actor) -> ChequeProgramme:
    _require_admin(actor)
    values = _check(data)
    programme = ChequeProgramme(**values)
    db.session.add(programme)
    db.session.flush()
    audit.record(actor, "programme.created", object_type="cheque_programme",
                 object_id=programme.id, name=programme.name,
                 pattern=programme.number_pattern,
                 validity_end=programme.validity_end.isoformat(),
                 changes=changes({}, _snapshot(programme)))
    db.session.commit()
    return programme


def create_programme(*, name: str, issuer: str, operator: str, number_pattern: str,
                     validity_end: date, actor: Actor, face_value_cents: int = 1000,
                     grace_days: int = 31) -> ChequeProgramme:
    """The same creation with typed values (the command line)."""
    return create(ProgrammeInput(
        name=name, issuer=issuer, operator=operator,
        face_value=f"{face_value_cents // 100},{face_value_cents % 100:02d}"
        if face_value_cents > 0 else "0", number_pattern=number_pattern,
        validity_end=validity_end.isoformat(), grace_days=str(grace_days)), actor=actor)


def update(programme: ChequeProgramme, data: ProgrammeInput, *,
           actor: Actor) -> dict[str, Any]:
    """Save the edited programme; the changed fields. Cheques already taken keep their value;
    a new pattern applies to the numbers typed from now on."""
    _require_admin(actor)
    values = _check(data)
    before = _snapshot(programme)
    for name, value in values.items():
        setattr(programme, name, value)
    changed = changes(before, _snapshot(programme))
    if changed:
        audit.record(actor, "programme.updated", object_type="cheque_programme",
                     object_id=programme.id, changes=changed)
    db.session.commit()
    return changed


# --- reading ----------------------------------------------------------------------------------


def may_see(staff: StaffMember) -> bool:
    return staff.is_network_admin or bool(staff_access.sites_where(staff, Action.SEE_CHEQUES))


def require_see(staff: StaffMember) -> None:
    if not may_see(staff):
        raise NotAllowed("role_required", _("Votre rôle ne permet pas de voir les chèques."))


def listing(staff: StaffMember) -> list[tuple[ChequeProgramme, int]]:
    """Every programme (newest validity first) with the cheques taken at the sites where the
    staff member sees cheques."""
    require_see(staff)
    counts = {programme_id: int(count) for programme_id, count in db.session.execute(
        db.select(Cheque.programme_id, func.count(Cheque.id))
        .where(Cheque.redeemed_at.is_not(None),
               staff_access.at_sites(staff, Action.SEE_CHEQUES, Cheque.site_id))
        .group_by(Cheque.programme_id))}
    programmes = db.session.scalars(db.select(ChequeProgramme).order_by(
        ChequeProgramme.is_active.desc(), ChequeProgramme.validity_end.desc(),
        ChequeProgramme.name))
    return [(p, int(counts.get(p.id, 0))) for p in programmes]


def programme_for(staff: StaffMember, programme_id: int) -> ChequeProgramme:
    require_see(staff)
    programme = db.session.get(ChequeProgramme, programme_id)
    if programme is None:
        raise NotFound("not_found", _("Cette page n'existe pas ou n'existe plus."))
    return programme


@dataclass(frozen=True)
class Page:
    cheques: list[Cheque]
    page: int
    pages: int
    total: int
    #: what each taken cheque paid for, by cheque id (a session's date and workshop).
    paid_for: dict[int, str]
    #: the receipt of each cheque, by cheque id.
    receipts: dict[int, Document]


def cheques_of(staff: StaffMember, programme: ChequeProgramme, page: int = 1) -> Page:
    """The programme's cheques at the sites where the staff member sees cheques (a network
    administrator sees those registered and not taken too), newest first, by pages."""
    where = (Cheque.programme_id == programme.id,
             staff_access.at_sites(staff, Action.SEE_CHEQUES, Cheque.site_id))
    total = db.session.scalar(db.select(func.count(Cheque.id)).where(*where)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    cheques = list(db.session.scalars(
        db.select(Cheque).where(*where)
        .order_by(Cheque.redeemed_at.desc().nulls_last(), Cheque.id.desc())
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return Page(cheques, page, pages, total, _paid_for(cheques), _receipts(cheques))


def _paid_for(cheques: list[Cheque]) -> dict[int, str]:
    booking_ids = {c.booking_id for c in cheques if c.booking_id}
    bookings = {b.id: b for b in db.session.scalars(
        db.select(Booking).where(Booking.id.in_(booking_ids)))} if booking_ids else {}
    paid: dict[int, str] = {}
    for cheque in cheques:
        booking = bookings.get(cheque.booking_id or 0)
        if booking is not None:
            session = booking.session
            paid[cheque.id] = _("%(workshop)s, le %(day)s", workshop=session.workshop.title,
                                day=day(session.starts_at))
        elif cheque.accompaniment_id:
            paid[cheque.id] = _("Accompagnement individuel")
    return paid


def _receipts(cheques: list[Cheque]) -> dict[int, Document]:
    ids = {c.receipt_id for c in cheques if c.receipt_id}
    if not ids:
        return {}
    found = {d.id: d for d in db.session.scalars(db.select(Document).where(Document.id.in_(ids)))}
    return {c.id: found[c.receipt_id] for c in cheques if c.receipt_id in found}
