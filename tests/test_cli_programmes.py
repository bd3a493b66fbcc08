"""``flask create-cheque-programme``: a programme is data, checked before it is stored."""

from __future__ import annotations

from datetime import date

from flask import Flask

from portal.extensions import db
from portal.models.audit import AuditEvent
from portal.models.vouchers import ChequeProgramme


def _invoke(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["create-cheque-programme", *args])


def test_creates_a_programme_valid_until_the_end_of_its_year_with_a_grace_month(app):
    result = _invoke(app, "--name", "Pass Numérique – Pas-de-Calais 2027", "--issuer",
                     "Département du Pas-de-Calais", "--pattern", "[0-9]{10}", "--year", "2027")
    assert result.exit_code == 0, result.output
    assert "31/01/2028" in result.output
    programme = db.session.scalar(db.select(ChequeProgramme))
    assert programme.validity_end == date(2027, 12, 31)
    assert programme.face_value_cents == 1000 and programme.operator == "APTIC"
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="programme.created"))


def test_refuses_a_pattern_that_is_not_a_regular_expression(app):
    result = _invoke(app, "--name", "X", "--issuer", "D", "--pattern", "[0-9", "--year", "2027")
    assert result.exit_code == 1
    assert "pattern_invalid" in result.output
    assert db.session.scalar(db.select(db.func.count(ChequeProgramme.id))) == 0


def test_refuses_a_pattern_that_accepts_an_empty_number(app):
    result = _invoke(app, "--name", "X", "--issuer", "D", "--pattern", "[0-9]*", "--year", "2027")
    assert result.exit_code == 1
    assert db.session.scalar(db.select(db.func.count(ChequeProgramme.id))) == 0
