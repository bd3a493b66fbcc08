"""Staff documents: download within their sites only, revoke with a reason, batch issue."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal.extensions import db
from portal.models import Document
from portal.models.vocab import BookingStatus, StaffRole
from portal.services import documents
from portal.services.audit import Actor
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def session_with_three_present(factory, site):
    workshop = factory.workshop(title="Premiers pas sur Internet", grants_attestation=True)
    session = factory.session(site, workshop)
    for name in ("Martine", "Kévin", "Odile"):
        factory.booking(session, factory.beneficiary(site, first_name=name),
                        status=BookingStatus.PRESENT)
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.ABSENT)
    return session


def staff_client(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    return client


def test_batch_issue_lays_out_once_and_stores_one_document_each(app, factory, site,
                                                               session_with_three_present):
    client = staff_client(app, factory.staff(site))
    page = client.get("/equipe/").get_data(as_text=True)
    response = client.post(f"/equipe/seances/{session_with_three_present.id}/attestations",
                           data={"csrf_token": csrf_from(page)})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert len(PdfReader(io.BytesIO(response.data)).pages) == 3
    stored = db.session.scalars(db.select(Document).order_by(Document.sequence)).all()
    assert [d.sequence for d in stored] == [1, 2, 3]
    for document in stored:
        assert len(PdfReader(io.BytesIO(document.pdf)).pages) == 1
    again = client.post(f"/equipe/seances/{session_with_three_present.id}/attestations",
                        data={"csrf_token": csrf_from(page)})
    assert again.status_code == 303  # nothing new: no duplicate
    assert db.session.scalar(db.select(db.func.count()).select_from(Document)) == 3


def test_staff_of_another_site_cannot_download_or_revoke(app, factory, site,
                                                        session_with_three_present):
    issued, _merged = documents.issue_session_certificates(
        session_with_three_present, actor=Actor.system(), verify_url="http://x/v/{code}")
    stranger = staff_client(app, factory.staff(factory.site(code="AVI")))
    document = issued[0]
    assert stranger.get(f"/equipe/documents/{document.id}.pdf").status_code == 404
    page = stranger.get("/equipe/documents").get_data(as_text=True)
    assert document.number not in page
    response = stranger.post(f"/equipe/documents/{document.id}/annuler",
                             data={"csrf_token": csrf_from(page), "reason": "x"})
    assert response.status_code == 404
    db.session.refresh(document)
    assert document.revoked_at is None


def test_animateur_revokes_with_a_reason_reception_cannot(app, factory, site,
                                                         session_with_three_present):
    issued, _merged = documents.issue_session_certificates(
        session_with_three_present, actor=Actor.system(), verify_url="http://x/v/{code}")
    document = issued[0]
    reception = staff_client(app, factory.staff(site, role=StaffRole.RECEPTION))
    page = reception.get("/equipe/documents").get_data(as_text=True)
    assert reception.post(f"/equipe/documents/{document.id}/annuler",
                          data={"csrf_token": csrf_from(page), "reason": "x"}).status_code == 403
    animateur = staff_client(app, factory.staff(site))
    page = animateur.get("/equipe/documents").get_data(as_text=True)
    response = animateur.post(f"/equipe/documents/{document.id}/annuler",
                              data={"csrf_token": csrf_from(page), "reason": "Nom mal écrit"})
    assert response.status_code == 303
    db.session.refresh(document)
    assert document.revoked_reason == "Nom mal écrit"
    download = animateur.get(f"/equipe/documents/{document.id}.pdf")
    assert download.data == document.pdf and download.headers["Cache-Control"] == "no-store"


def test_beneficiaries_cannot_reach_staff_documents(client, factory, site, login_as):
    login_as(factory.beneficiary(site))
    assert client.get("/equipe/documents").status_code == 403


def test_attendance_sheet_and_login_card(app, factory, site, session_with_three_present):
    import subprocess

    staff = factory.staff(site)
    client = staff_client(app, staff)
    page = client.get("/equipe/").get_data(as_text=True)
    sheet = client.post(f"/equipe/seances/{session_with_three_present.id}/emargement",
                        data={"csrf_token": csrf_from(page)})
    assert sheet.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=sheet.data,
                          capture_output=True, check=True).stdout.decode()
    assert "Martine" in text and "Premiers pas sur Internet" in text

    person = factory.beneficiary(site, first_name="Kévin", password_hash=None)
    card = client.post(f"/equipe/beneficiaires/{person.id}/carte",
                       data={"csrf_token": csrf_from(page)})
    assert card.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-", "-"], input=card.data, capture_output=True,
                          check=True).stdout.decode()
    code = next(word for word in text.split() if len(word) == 9 and word[4] == "-"
                and word.replace("-", "").isalnum() and word != person.login_id_display)
    db.session.refresh(person)
    document = db.session.scalars(db.select(Document).filter_by(
        beneficiary_id=person.id)).one()
    assert code not in str(document.snapshot)  # the code lives only on the printed card
    assert login(app.test_client(), person.login_id, code).headers["Location"] == (
        "/premiere-connexion")


def cheques_taken_three_days_ago(factory, staff, now, *taken) -> None:
    """Cheques of an APTIC programme taken three days ago, one per (site, number) given, each
    for a person present at a session of that site."""
    from datetime import date, timedelta

    from portal.models import Cheque, ChequeProgramme

    programme = ChequeProgramme(name="Pass Numérique APTIC 62", issuer="Département",
                                operator="APTIC", validity_end=date(2026, 12, 31))
    db.session.add(programme)
    db.session.flush()
    for place, number in taken:
        booking = factory.booking(factory.session(place, starts_in=timedelta(days=-3)),
                                  factory.beneficiary(place), status=BookingStatus.PRESENT)
        db.session.add(Cheque(programme_id=programme.id, number=number, value_cents=1000,
                              redeemed_at=now - timedelta(days=3), site_id=place.id,
                              redeemed_by_id=staff.id, booking_id=booking.id))
    db.session.commit()


def ask_deposit_slip(client, site, month: str):
    page = client.get("/equipe/documents").get_data(as_text=True)
    return client.post("/equipe/bordereau", data={"csrf_token": csrf_from(page),
                                                  "site_id": site.id, "month": month})


def test_monthly_deposit_slip_lists_the_cheques_taken(app, factory, site, frozen_now):
    import subprocess

    staff = factory.staff(site)
    cheques_taken_three_days_ago(factory, staff, frozen_now,
                                 (site, "620726110348"), (site, "620726110349"))
    client = staff_client(app, staff)
    response = ask_deposit_slip(client, site, "2026-11")
    assert response.mimetype == "application/pdf"
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=response.data,
                          capture_output=True, check=True).stdout.decode()
    assert "6207-2611-0348" in text and "20,00" in text
    empty = ask_deposit_slip(client, site, "2026-10")
    assert empty.status_code == 422  # shown again, at the month (no cheques then)


# --- roles are per site ----------------------------------------------------------------------


@pytest.fixture
def reception_here_animateur_there(factory, site):
    """Reception at Méricourt (``site``), animateur at Avion."""
    from portal.models import StaffSiteRole

    avion = factory.site(code="AVI", name="Espace numérique d'Avion")
    staff = factory.staff(site, role=StaffRole.RECEPTION)
    staff.roles.append(StaffSiteRole(site_id=avion.id, role=StaffRole.ANIMATEUR))
    db.session.commit()
    return staff, avion


def test_an_animateur_elsewhere_cannot_revoke_where_they_are_reception(
        app, factory, site, session_with_three_present, reception_here_animateur_there):
    staff, _avion = reception_here_animateur_there
    issued, _merged = documents.issue_session_certificates(
        session_with_three_present, actor=Actor.system(), verify_url="http://x/v/{code}")
    client = staff_client(app, staff)
    page = client.get("/equipe/documents").get_data(as_text=True)
    assert issued[0].number in page  # seen, as reception may
    assert f"/equipe/documents/{issued[0].id}/annuler" not in page  # but no button
    response = client.post(f"/equipe/documents/{issued[0].id}/annuler",
                           data={"csrf_token": csrf_from(page), "reason": "Nom mal écrit"})
    assert response.status_code == 403
    db.session.refresh(issued[0])
    assert issued[0].revoked_at is None


def test_an_animateur_elsewhere_cannot_use_up_a_deposit_slip_number_where_they_are_reception(
        app, factory, site, frozen_now, reception_here_animateur_there):
    from portal.models import DocumentCounter

    staff, avion = reception_here_animateur_there
    cheques_taken_three_days_ago(factory, staff, frozen_now,
                                 (site, "620726110348"), (avion, "620726110349"))
    client = staff_client(app, staff)
    refused = ask_deposit_slip(client, site, "2026-11")
    assert refused.status_code == 403
    assert db.session.scalars(db.select(Document)).all() == []
    assert db.session.scalars(db.select(DocumentCounter)).all() == []
    issued = ask_deposit_slip(client, avion, "2026-11")
    assert issued.mimetype == "application/pdf"
    [slip] = db.session.scalars(db.select(Document)).all()
    assert slip.site_id == avion.id and slip.sequence == 1


def test_closing_preview_says_when_no_attestation_will_be_issued(app, factory, site,
                                                                 frozen_now):
    from datetime import timedelta

    workshop = factory.workshop(title="Premiers pas sur Internet", grants_attestation=True)
    session = factory.session(site, workshop, starts_in=timedelta(hours=-3))
    factory.booking(session, factory.beneficiary(site), status=BookingStatus.ABSENT)
    page = staff_client(app, factory.staff(site)).get(f"/equipe/seances/{session.id}/cloture")
    text = page.get_data(as_text=True)
    assert "Aucune attestation de participation à délivrer." in text
    assert "0 attestation" not in text


def test_a_pending_document_is_not_served_and_closing_again_is_offered(app, factory, site,
                                                                       frozen_now,
                                                                       monkeypatch):
    """A document whose render failed is numbered but has no bytes: staff are told and
    offered to issue the missing documents again; its holder does not see it yet."""
    from datetime import timedelta

    from portal.pdf.render import PdfRenderError
    from portal.services import closing, issuing

    workshop = factory.workshop(title="Premiers pas sur Internet", grants_attestation=True)
    session = factory.session(site, workshop, starts_in=timedelta(hours=-3))
    person = factory.beneficiary(site)
    factory.booking(session, person, status=BookingStatus.PRESENT)
    staff = factory.staff(site)

    def render_down(*args, **kwargs):
        raise PdfRenderError("the rendering process stopped")

    with monkeypatch.context() as patch:
        patch.setattr(issuing, "pdf_for", render_down)
        patch.setattr(issuing, "batch_pdf", render_down)
        assert closing.close_session(session, actor=Actor.of(staff),
                                     verify_url="http://x/v/{code}").documents_failed
    certificate = db.session.scalars(db.select(Document).filter_by(
        beneficiary_id=person.id)).one()
    assert certificate.is_pending

    client = staff_client(app, staff)
    response = client.get(f"/equipe/documents/{certificate.id}.pdf")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Le document n° {certificate.number} est en préparation" in page
    row = page[page.index(f">{certificate.number}</a>"):]
    assert row[:row.index("</tr>")].count("En préparation") == 1
    close_page = client.get(f"/equipe/seances/{session.id}/cloture").get_data(as_text=True)
    assert "Éditer les documents manquants" in close_page

    owner = app.test_client()
    assert login(owner, person.login_id).status_code == 303
    assert owner.get(f"/mon-espace/documents/{certificate.id}.pdf").status_code == 404
    assert certificate.number not in owner.get("/mon-espace/documents").get_data(as_text=True)
