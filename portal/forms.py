"""Forms shared by several screens. Each form lists its fields: extra fields are ignored."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length

from portal.services.errors import ServiceError
from portal.services.passwords import MAX_LENGTH

_ID = re.compile(r"[0-9]{1,9}")


def parse_id(raw: str | None) -> int | None:
    """A row id from a form or query value; None for anything else ("²", "1e3", 20 digits)."""
    return int(raw) if raw and _ID.fullmatch(raw) else None


def attach_errors(form: FlaskForm, failure: ServiceError) -> bool:
    """Put a service's refusal on the fields it names (``details['fields']``, or the one
    ``details['field']``), after the form's own errors; False when it names no field of the
    form (the caller shows it above the form)."""
    named = dict(failure.details.get("fields") or {})
    if not named and failure.details.get("field"):
        named = {failure.details["field"]: failure.message}
    attached = False
    for name, message in named.items():
        field = form._fields.get(name)
        if field is not None:
            field.errors = [*field.errors, message]
            attached = True
    return attached


class LoginForm(FlaskForm):
    identifier = StringField(
        _l("Identifiant ou adresse e-mail"),
        validators=[InputRequired(_l("Écrivez votre identifiant.")), Length(max=254)],
        description=_l("Il est écrit sur votre carte d'accès, par exemple : K7P-M3Q."),
    )
    password = PasswordField(
        _l("Mot de passe"),
        validators=[InputRequired(_l("Écrivez votre mot de passe.")), Length(max=MAX_LENGTH)],
        description=_l("Première connexion ? Écrivez le code imprimé sur votre carte."),
    )
    next = HiddenField()


def _new_password_field() -> PasswordField:
    return PasswordField(
        _l("Nouveau mot de passe"),
        validators=[Length(max=MAX_LENGTH)],
        description=_l("Au moins 12 caractères. Une petite phrase facile à retenir, "
                       "par exemple : « mon chat aime la pluie »."),
    )


def _confirmation_field() -> PasswordField:
    return PasswordField(_l("Écrivez-le une deuxième fois"), validators=[Length(max=MAX_LENGTH)])


class NewPasswordForm(FlaskForm):
    """The service checks every field (empty ones too) and names all the problems at once."""

    new_password = _new_password_field()
    confirmation = _confirmation_field()


class PasswordChangeForm(FlaskForm):
    """As ``NewPasswordForm``, after the current password (fields in the order shown)."""

    current_password = PasswordField(_l("Mot de passe actuel"),
                                     validators=[Length(max=MAX_LENGTH)])
    new_password = _new_password_field()
    confirmation = _confirmation_field()


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change state (logout, keep-alive)."""
