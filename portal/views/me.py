"""The beneficiary space."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from portal.access import require_beneficiary
from portal.services import bookings

bp = Blueprint("me", __name__, url_prefix="/mon-espace")
bp.before_request(require_beneficiary)


@bp.route("/")
def home() -> str:
    person = current_user._get_current_object()
    upcoming, past = bookings.bookings_of(person)
    return render_template("me/home.html", person=person, upcoming=upcoming, past=past)
