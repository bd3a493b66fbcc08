"""Accounts: logging in, first login with the card code, changing passwords, creating and
disabling accounts. Every function is one unit of work and audits what it does."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from portal.clock import now
from portal.extensions import db
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.vocab import Language, StaffRole
from portal.services import login_sessions, passwords
from portal.services.audit import Actor, record
from portal.services.codes import normalise_code, random_code
from portal.services.errors import (
    AuthenticationFailed,
    Conflict,
    NotAllowed,
    ValidationFailed,
)
from portal.services.throttle import login_throttle

Principal = StaffMember | Beneficiary

LOGIN_ID_LENGTH = 6
FIRST_LOGIN_CODE_LENGTH = 8


def _invalid_credentials() -> AuthenticationFailed:
    # One message for unknown identifier, wrong password, disabled account
    # (docs/security.md#same-answer).
    return AuthenticationFailed(
        "invalid_credentials",
        str(_l("Identifiant ou mot de passe incorrect. Vérifiez et réessayez, "
               "ou demandez de l'aide à l'accueil.")),
    )


def _throttled(code: str, message: str) -> AuthenticationFailed:
    error = AuthenticationFailed(code, message)
    error.status = 429
    return error


def _too_many_attempts() -> AuthenticationFailed:
    return _throttled("too_many_attempts",
                      str(_l("Trop d'essais pour ce compte. Attendez 15 minutes, "
                             "ou demandez de l'aide à l'accueil.")))


def _too_many_failures_here() -> AuthenticationFailed:
    # Said only after a failure: a right password from this address still opens the account.
    return _throttled("too_many_failures_here",
                      str(_l("Identifiant ou mot de passe incorrect, et trop d'essais manqués "
                             "depuis ce lieu. Vérifiez bien, ou demandez de l'aide à "
                             "l'accueil.")))


def account_key(identifier: str) -> str:
    """The normalised identifier, used to find the account and to count its failures."""
    identifier = (identifier or "").strip()
    if "@" in identifier:
        return "staff:" + identifier.lower()
    return "beneficiary:" + normalise_code(identifier)


def find_by_identifier(identifier: str) -> Principal | None:
    key = account_key(identifier)
    kind, _, value = key.partition(":")
    if not value or len(value) > 254:
        return None
    if kind == "staff":
        return db.session.scalar(db.select(StaffMember).filter_by(email=value))
    return db.session.scalar(db.select(Beneficiary).filter_by(login_id=value))


@dataclass(frozen=True)
class LoginOutcome:
    principal: Principal
    #: the person used the first-login code from their card and must now choose a password.
    must_choose_password: bool = False


def authenticate(identifier: str, password: str, *, ip: str) -> LoginOutcome:
    """Check an identifier and a password (or first-login code). Commits the audit trail."""
    key = account_key(identifier)
    throttle = login_throttle()
    if throttle.account_blocked(key):
        record(Actor.anonymous(ip), "login.blocked", object_type="account", object_id=key[:64])
        db.session.commit()
        raise _too_many_attempts()

    principal = find_by_identifier(identifier)
    usable = principal is not None and principal.is_active and not _is_anonymised(principal)
    account = principal if usable else None
    # Every failure runs exactly two argon2 verifications — the password, then the card's
    # first-login code — each against a dummy hash when there is nothing real to check, so
    # that no failure (unknown, disabled, wrong password, code pending or expired) can be
    # told from another by its time (docs/security.md#same-answer).
    password_ok = passwords.verify_password(account.password_hash if account else None,
                                            password)
    if password_ok and account is not None:
        if passwords.needs_rehash(account.password_hash or ""):
            account.password_hash = passwords.hash_password(password)
        return _succeed(account, ip, first_login=False)
    code_ok = passwords.verify_password(_pending_code_hash(account), normalise_code(password))
    if code_ok and account is not None:
        return _succeed(account, ip, first_login=True)

    address_limited = throttle.address_exhausted(ip)
    throttle.record_failure(key, ip)
    record(
        Actor.anonymous(ip),
        "login.failed",
        object_type=principal.kind if principal else "unknown",
        object_id=principal.id if principal else "",
        **({"address_limited": True} if address_limited else {}),
    )
    db.session.commit()
    raise _too_many_failures_here() if address_limited else _invalid_credentials()


def _is_anonymised(principal: Principal) -> bool:
    return isinstance(principal, Beneficiary) and principal.is_anonymised


def _pending_code_hash(principal: Principal | None) -> str | None:
    """The hash of the card's first-login code, while it may still be used."""
    if not isinstance(principal, Beneficiary) or not principal.first_login_code_hash:
        return None
    expires = principal.first_login_code_expires_at
    if expires is None or expires <= now():
        return None
    return principal.first_login_code_hash


def _succeed(principal: Principal, ip: str, *, first_login: bool) -> LoginOutcome:
    action = "login.first_code_accepted" if first_login else "login.succeeded"
    record(Actor.of(principal, ip), action, object_type=principal.kind, object_id=principal.id)
    if not first_login:
        principal.last_login_at = now()
    db.session.commit()
    return LoginOutcome(principal, must_choose_password=first_login)


def complete_first_login(person: Beneficiary, new_password: str, confirmation: str,
                         *, actor: Actor) -> None:
    """Set the password chosen at first login; the card's code can no longer be used."""
    if not person.first_login_code_hash:
        raise NotAllowed("first_login_not_pending",
                         str(_l("Ce code a déjà été utilisé. Connectez-vous avec votre "
                                "mot de passe.")))
    refuse_all(new_password_problems(person, new_password, confirmation))
    person.password_hash = passwords.hash_password(new_password)
    person.password_changed_at = now()
    person.first_login_code_hash = None
    person.first_login_code_expires_at = None
    person.last_login_at = now()
    login_sessions.revoke_all(person, "password_changed")
    record(actor, "account.first_password_set", object_type="beneficiary", object_id=person.id)
    db.session.commit()


def change_password(principal: Principal, current: str, new_password: str, confirmation: str,
                    *, actor: Actor) -> None:
    """Change a password, knowing the current one. Every login session ends.

    Every field is checked before anything is refused: the person sees all the problems at
    once (``ValidationFailed.details['fields']``)."""
    problems: list[ValidationFailed] = []
    if not current:
        problems.append(ValidationFailed("current_password_missing",
                                         str(_l("Écrivez votre mot de passe actuel.")),
                                         field="current_password"))
    elif not passwords.verify_password(principal.password_hash, current):
        record(actor, "account.password_change_refused", object_type=principal.kind,
               object_id=principal.id)
        db.session.commit()
        problems.append(ValidationFailed("current_password_wrong",
                                         str(_l("Le mot de passe actuel n'est pas le bon.")),
                                         field="current_password"))
    problems.extend(new_password_problems(principal, new_password, confirmation))
    refuse_all(problems)
    if passwords.verify_password(principal.password_hash, new_password):
        raise ValidationFailed("password_unchanged",
                               str(_l("Choisissez un mot de passe différent de l'actuel.")),
                               field="new_password")
    principal.password_hash = passwords.hash_password(new_password)
    principal.password_changed_at = now()
    login_sessions.revoke_all(principal, "password_changed")
    record(actor, "account.password_changed", object_type=principal.kind,
           object_id=principal.id)
    db.session.commit()


def new_password_problems(principal: Principal, new_password: str,
                           confirmation: str) -> list[ValidationFailed]:
    """What is wrong with a new password and its confirmation, field by field."""
    problems: list[ValidationFailed] = []
    if not new_password:
        problems.append(ValidationFailed("password_missing",
                                         str(_l("Choisissez un mot de passe.")),
                                         field="new_password"))
    else:
        try:
            passwords.check_policy(new_password, personal=_personal_words(principal))
        except ValidationFailed as error:
            error.details["field"] = "new_password"
            problems.append(error)
    if not confirmation:
        problems.append(ValidationFailed("confirmation_missing",
                                         str(_l("Écrivez le mot de passe une deuxième fois.")),
                                         field="confirmation"))
    elif new_password != confirmation:
        problems.append(ValidationFailed("password_mismatch",
                                         str(_l("Les deux mots de passe ne sont pas "
                                                "identiques.")),
                                         field="confirmation"))
    return problems


def refuse_all(problems: list[ValidationFailed]) -> None:
    """Raise the first problem, carrying every one of them by field."""
    if problems:
        first = problems[0]
        raise ValidationFailed(first.code, first.message, field=first.details.get("field"),
                               fields={p.details["field"]: p.message for p in problems})


def _personal_words(principal: Principal) -> tuple[str, ...]:
    if isinstance(principal, StaffMember):
        return (principal.email.split("@")[0], *principal.full_name.split())
    return (principal.login_id, principal.first_name, principal.last_name)


# --- creating and managing accounts -------------------------------------------------------

_SITE_CODE = re.compile(r"^[A-Z]{2,6}$")


def create_site(*, code: str, name: str, actor: Actor, **fields: object) -> Site:
    code = (code or "").strip().upper()
    if not _SITE_CODE.match(code):
        raise ValidationFailed("site_code_invalid",
                               str(_l("Le code du lieu doit avoir 2 à 6 lettres majuscules.")),
                               field="code")
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ValidationFailed("site_name_invalid",
                               str(_l("Le nom du lieu est obligatoire (120 caractères au plus).")),
                               field="name")
    if db.session.scalar(db.select(Site.id).filter_by(code=code)) is not None:
        raise Conflict("site_code_taken", str(_l("Ce code de lieu existe déjà.")), field="code")
    site = Site(code=code, name=name, **fields)
    db.session.add(site)
    db.session.flush()
    record(actor, "site.created", object_type="site", object_id=site.id, site_id=site.id)
    db.session.commit()
    return site


def normalise_email(raw: str) -> str:
    try:
        result = validate_email((raw or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed("email_invalid",
                               str(_l("L'adresse e-mail n'est pas valide.")),
                               field="email") from error
    return result.normalized.lower()


def create_staff(
    *,
    email: str,
    full_name: str,
    password: str,
    roles: dict[int, StaffRole],
    is_network_admin: bool = False,
    actor: Actor,
) -> StaffMember:
    """Create a staff account. The password is chosen by the staff member, never a default."""
    email = normalise_email(email)
    full_name = (full_name or "").strip()
    if not full_name or len(full_name) > 120:
        raise ValidationFailed("name_invalid",
                               str(_l("Le nom est obligatoire (120 caractères au plus).")),
                               field="full_name")
    staff = StaffMember(email=email, full_name=full_name, is_network_admin=is_network_admin)
    passwords.check_policy(password, personal=_personal_words(staff))
    staff.password_hash = passwords.hash_password(password)
    staff.password_changed_at = now()
    for site_id, role in roles.items():
        if db.session.get(Site, site_id) is None:
            raise ValidationFailed("site_unknown", str(_l("Ce lieu n'existe pas.")),
                                   field="site")
        staff.roles.append(StaffSiteRole(site_id=site_id, role=role))
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict("email_taken", str(_l("Un compte existe déjà avec cette adresse.")),
                       field="email") from error
    record(actor, "account.staff_created", object_type="staff", object_id=staff.id,
           roles={str(k): v.value for k, v in roles.items()}, network_admin=is_network_admin)
    db.session.commit()
    return staff


def new_login_id() -> str:
    """A short, unused login identifier for a beneficiary's card."""
    for _ in range(20):
        candidate = random_code(LOGIN_ID_LENGTH)
        if db.session.scalar(db.select(Beneficiary.id).filter_by(login_id=candidate)) is None:
            return candidate
    raise RuntimeError("could not find a free login identifier")


def issue_first_login_code(person: Beneficiary, *, validity: timedelta, actor: Actor) -> str:
    """Give the person a new single-use code (printed on their card). Returns it once."""
    code = random_code(FIRST_LOGIN_CODE_LENGTH)
    person.first_login_code_hash = passwords.hash_password(code)
    person.first_login_code_expires_at = now() + validity
    record(actor, "account.first_login_code_issued", object_type="beneficiary",
           object_id=person.id, expires_at=person.first_login_code_expires_at.isoformat())
    db.session.commit()
    return code


def set_active(principal: Principal, active: bool, *, actor: Actor) -> None:
    """Enable or disable an account; disabling ends its login sessions at once."""
    principal.is_active = active
    if not active:
        login_sessions.revoke_all(principal, "disabled")
    record(actor, "account.enabled" if active else "account.disabled",
           object_type=principal.kind, object_id=principal.id)
    db.session.commit()


def set_language(principal: Principal, language: str, *, actor: Actor) -> None:
    try:
        chosen = Language(language)
    except ValueError as error:
        raise ValidationFailed("language_unknown", str(_l("Langue inconnue."))) from error
    if principal.preferred_language is chosen:
        return
    previous = principal.preferred_language
    principal.preferred_language = chosen
    record(actor, "account.language_changed", object_type=principal.kind,
           object_id=principal.id, previous=previous.value if previous else None,
           language=chosen.value)
    db.session.commit()
