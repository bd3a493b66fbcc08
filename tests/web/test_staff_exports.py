"""The exports screen and downloads: a GET form that says how many rows the file will have,
then the download (attachment, no-store, streamed); a form that cannot be read is shown again
with what was chosen (422); reception may not export (403), another site is a 404, the people
of a site need SEE_PEOPLE and EXPORT_DATA there, the network is the network administrator's."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import openpyxl
import pytest

from portal.extensions import db
from portal.models import AuditEvent
from portal.models.vocab import BookingStatus, StaffRole
from tests.conftest import login

NOVEMBER = {"periode": "mois", "mois": "2026-11"}


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def other(factory):
    return factory.site(code="AUT", name="Autre lieu")


@pytest.fixture
def animateur(factory, site):
    return factory.staff(site, StaffRole.ANIMATEUR, full_name="Claire Martin")


@pytest.fixture
def booked(factory, site):
    start = datetime(2026, 11, 10, 13, 0, tzinfo=UTC)
    session = factory.session(site, factory.workshop(title="Envoyer un e-mail"),
                              starts_at=start, ends_at=start + timedelta(hours=2))
    person = factory.beneficiary(site, first_name="=1+2", last_name="Durand; dit \"Le\"")
    return factory.booking(session, person, BookingStatus.PRESENT)


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return client


def test_the_screen_counts_the_rows_then_links_to_the_download(app, animateur, site, booked):
    client = signed_in(app, animateur)
    blank = client.get("/equipe/rapports/exports")
    assert blank.status_code == 200
    assert 'name="quoi"' in blank.get_data(as_text=True)
    page = client.get("/equipe/rapports/exports", query_string={
        "quoi": "presences", "format": "csv", **NOVEMBER})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Le fichier aura 1 ligne." in text
    assert f"/equipe/rapports/exports/presences.csv?site={site.id}" in text
    assert "presences-MER-2026-11-01-2026-11-30.csv" in text


def test_csv_download_is_an_attachment_not_cached_and_audited(app, animateur, site, booked):
    client = signed_in(app, animateur)
    response = client.get("/equipe/rapports/exports/presences.csv",
                          query_string={"site": site.id, **NOVEMBER})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="presences-MER-2026-11-01-2026-11-30.csv"')
    assert "no-store" in response.headers["Cache-Control"]
    assert response.is_streamed
    db.session.remove()  # as after a real request: the rows are read in a session of their own
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbfDate;Heure;Lieu;")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[1][4:6] == ["'=1+2", 'Durand; dit "Le"']
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "export.attendance")).one()
    assert event.details["rows"] == 1 and event.site_id == site.id
    assert "Durand" not in str(event.details)


def test_xlsx_download_reads_back(app, animateur, site, booked):
    client = signed_in(app, animateur)
    response = client.get("/equipe/rapports/exports/activites.xlsx",
                          query_string={"site": site.id, **NOVEMBER})
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["A1"].value == "Date"
    assert sheet["B2"].value == "Collectif"
    assert sheet["M2"].value == '=1+2 Durand; dit "Le"' and sheet["M2"].data_type == "s"


@pytest.mark.parametrize("query", [
    {"quoi": "tout", "format": "csv", **NOVEMBER},
    {"quoi": "presences", "format": "pdf", **NOVEMBER},
    {"quoi": "presences", "format": "csv", "periode": "mois", "mois": "2026-13"},
    {"quoi": "presences", "format": "csv", "periode": "dates", "du": "2026-11-30",
     "au": "2026-11-01"},
])
def test_a_form_that_cannot_be_read_is_shown_again_with_what_was_chosen(app, animateur, query):
    client = signed_in(app, animateur)
    response = client.get("/equipe/rapports/exports", query_string=query)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'id="error-summary"' in text
    assert 'aria-invalid="true"' in text or "field-invalid" in text
    if query.get("mois"):
        assert f'value="{query["mois"]}"' in text


def test_a_download_with_a_bad_period_is_a_422_page(app, animateur, site):
    client = signed_in(app, animateur)
    assert client.get("/equipe/rapports/exports/tout.pdf").status_code == 422
    response = client.get("/equipe/rapports/exports/cheques.xlsx",
                          query_string={"site": site.id, "periode": "annee", "annee": "1900"})
    assert response.status_code == 422
    assert 'id="error-summary"' in response.get_data(as_text=True)


def test_who_may_export_what_where(app, factory, site, other, animateur):
    reception = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    assert reception.get("/equipe/rapports/exports").status_code == 403
    assert reception.get("/equipe/rapports/exports/presences.csv",
                         query_string={"site": site.id}).status_code == 403
    client = signed_in(app, animateur)
    assert client.get("/equipe/rapports/exports/presences.csv",
                      query_string={"site": other.id}).status_code == 404
    assert client.get("/equipe/rapports/exports/presences.csv",
                      query_string={"site": "reseau"}).status_code == 403
    assert client.get("/equipe/rapports/exports/personnes.csv",
                      query_string={"site": site.id}).status_code == 200
    network = signed_in(app, factory.staff(is_network_admin=True))
    page = network.get("/equipe/rapports/exports", query_string={
        "quoi": "activites", "site": "reseau", "format": "xlsx", **NOVEMBER})
    assert page.status_code == 200
    assert '<option value="reseau" selected>Tout le réseau</option>' in page.get_data(
        as_text=True)
    response = network.get("/equipe/rapports/exports/personnes.xlsx",
                           query_string={"site": "reseau"})
    assert response.status_code == 200
    assert "personnes-RESEAU-" in response.headers["Content-Disposition"]
    assert network.get("/equipe/rapports/exports/presences.csv",
                       query_string={"site": other.id}).status_code == 200
