"""Site settings and cheque programme screens: refused forms come back 422 with what was typed,
uploads are checked by content and served from the site's row only, a 50 MB upload is a French
413 page, programmes are written by network administrators only, the live pattern test works
with htmx and without JavaScript."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from portal.extensions import db
from portal.models import AuditEvent, ChequeProgramme, Site
from portal.models.vocab import StaffRole
from tests.conftest import csrf_from, login


@pytest.fixture
def site(factory):
    return factory.site(code="MER", name="Cyberbase de Méricourt")


@pytest.fixture
def other(factory):
    return factory.site(code="LEN", name="Cyberbase de Lens")


def signed_in(app, staff):
    client = app.test_client()
    assert login(client, staff.email).status_code == 303
    client.token = csrf_from(client.get("/equipe/").get_data(as_text=True))
    return client


@pytest.fixture
def admin(app, factory, site):
    return signed_in(app, factory.staff(site, StaffRole.ADMIN))


@pytest.fixture
def network(app, factory):
    return signed_in(app, factory.staff(is_network_admin=True))


def stored(site) -> Site:
    db.session.expire_all()
    return db.session.get(Site, site.id)


def png(width: int = 64, height: int = 32) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (31, 78, 158)).save(out, format="PNG")
    return out.getvalue()


def settings(site, **changes) -> dict[str, str]:
    values = {"name": site.name, "address": "Rue Henri Darras", "postcode": "62680",
              "city": "Méricourt", "phone": "03 21 69 92 92", "email": "",
              "opening_hours": "", "aptic_accreditation": "APTIC-62-0042",
              "other_accreditation": "", "signatory_name": "Nathalie Caron",
              "signatory_role": "Directrice", "regie_mention": "", "regisseur_name": "",
              "regisseur_role": "", "receipt_signatory_role": "",
              "cancellation_deadline_minutes": "120", "idle_timeout_minutes": "20",
              "max_upcoming_bookings": "5"}
    values.update(changes)
    return values


def test_the_list_shows_the_sites_the_admin_may_set(admin, site, other):
    page = admin.get("/equipe/lieux").get_data(as_text=True)
    assert f"/equipe/lieux/{site.id}/reglages" in page
    assert f"/equipe/lieux/{other.id}/reglages" not in page


def test_settings_are_saved_without_javascript(admin, site):
    response = admin.post(f"/equipe/lieux/{site.id}/reglages",
                          data={**settings(site), "csrf_token": admin.token})
    assert response.status_code == 303
    assert stored(site).aptic_accreditation == "APTIC-62-0042"
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "sont enregistrés" in page and f"/equipe/lieux/{site.id}/fermetures" in page


def test_a_refused_form_comes_back_422_with_what_was_typed(admin, site):
    response = admin.post(f"/equipe/lieux/{site.id}/reglages", data={
        **settings(site, idle_timeout_minutes="500", city="Lens-Nord"),
        "csrf_token": admin.token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="error-summary"' in page and 'href="#idle_timeout_minutes"' in page
    assert 'value="Lens-Nord"' in page and 'value="500"' in page
    assert stored(site).city == "Méricourt"


def test_a_logo_is_uploaded_served_with_its_type_and_removed(admin, site):
    response = admin.post(f"/equipe/lieux/{site.id}/logo", data={
        "logo": (io.BytesIO(png()), "logo.png"), "csrf_token": admin.token},
        content_type="multipart/form-data")
    assert response.status_code == 303
    served = admin.get(f"/equipe/lieux/{site.id}/logo")
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data.startswith(b"\x89PNG")
    page = admin.get(f"/equipe/lieux/{site.id}/reglages").get_data(as_text=True)
    assert f'src="/equipe/lieux/{site.id}/logo"' in page and "Retirer le logo" in page
    assert admin.post(f"/equipe/lieux/{site.id}/logo/retirer",
                      data={"csrf_token": admin.token}).status_code == 303
    assert admin.get(f"/equipe/lieux/{site.id}/logo").status_code == 404


def test_a_script_named_png_is_refused_422_and_nothing_is_stored(admin, site):
    response = admin.post(f"/equipe/lieux/{site.id}/signature", data={
        "signature": (io.BytesIO(b"<script>alert(1)</script>"), "signature.png", "image/png"),
        "csrf_token": admin.token}, content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#signature"' in page and "PNG ou JPEG" in page
    assert stored(site).signature_image is None


def test_a_50_mb_upload_is_a_french_413_page(admin, site):
    boundary = "----portail"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{admin.token}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; "
            f'filename="big.png"\r\nContent-Type: image/png\r\n\r\n').encode() \
        + b"\x89PNG\r\n\x1a\n" + b"\0" * (50 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    response = admin.post(f"/equipe/lieux/{site.id}/logo", data=body,
                          content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413
    assert "Envoi trop gros" in response.get_data(as_text=True)
    assert stored(site).logo is None


def test_another_site_s_images_and_settings_are_a_404(admin, other):
    for url in (f"/equipe/lieux/{other.id}/reglages", f"/equipe/lieux/{other.id}/logo",
                f"/equipe/lieux/{other.id}/signature"):
        assert admin.get(url).status_code == 404


def test_an_animateur_may_not_open_the_settings(app, factory, site):
    client = signed_in(app, factory.staff(site, StaffRole.ANIMATEUR))
    assert client.get(f"/equipe/lieux/{site.id}/reglages").status_code == 403
    assert client.post(f"/equipe/lieux/{site.id}/logo", data={
        "logo": (io.BytesIO(png()), "logo.png"), "csrf_token": client.token},
        content_type="multipart/form-data").status_code == 403


# --- a new site ----------------------------------------------------------------------------------


def test_a_network_admin_creates_a_site_then_completes_its_settings(network):
    assert "Créer un lieu" in network.get("/equipe/lieux").get_data(as_text=True)
    response = network.post("/equipe/lieux/nouveau", data={
        "name": "Cyberbase de Liévin", "code": "lie", "csrf_token": network.token})
    assert response.status_code == 303
    created = db.session.scalar(db.select(Site).filter_by(code="LIE"))
    assert created.name == "Cyberbase de Liévin"
    assert response.headers["Location"].endswith(f"/equipe/lieux/{created.id}/reglages")
    assert db.session.scalar(db.select(AuditEvent).filter_by(
        action="site.created", object_id=str(created.id))) is not None


@pytest.mark.parametrize(("code", "field"), [("MER", "code"), ("L1", "code"), ("", "code")])
def test_a_refused_site_comes_back_422_with_what_was_typed(network, site, code, field):
    sites_before = db.session.scalar(db.select(db.func.count(Site.id)))
    response = network.post("/equipe/lieux/nouveau", data={
        "name": "Cyberbase de Liévin", "code": code, "csrf_token": network.token})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'value="Cyberbase de Liévin"' in text and f'href="#{field}"' in text
    assert db.session.scalar(db.select(db.func.count(Site.id))) == sites_before


def test_only_a_network_admin_creates_a_site(admin):
    assert "Créer un lieu" not in admin.get("/equipe/lieux").get_data(as_text=True)
    assert admin.get("/equipe/lieux/nouveau").status_code == 403
    response = admin.post("/equipe/lieux/nouveau", data={
        "name": "Cyberbase de Liévin", "code": "LIE", "csrf_token": admin.token})
    assert response.status_code == 403
    assert db.session.scalar(db.select(Site).filter_by(code="LIE")) is None


# --- cheque programmes ------------------------------------------------------------------------


def programme_form(**changes) -> dict[str, str]:
    values = {"name": "Pass Numérique 2027", "issuer": "Département", "operator": "APTIC",
              "face_value": "10,00", "number_pattern": "[0-9]{10}",
              "validity_end": "2027-12-31", "grace_days": "31", "is_active": "1",
              "intent": "save"}
    values.update(changes)
    return values


def test_a_network_admin_creates_a_programme(network):
    response = network.post("/equipe/cheques/nouveau",
                            data={**programme_form(), "csrf_token": network.token})
    assert response.status_code == 303
    programme = db.session.scalar(db.select(ChequeProgramme))
    assert programme.face_value_cents == 1000
    page = network.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pass Numérique 2027" in page and "[0-9]{10}" in page


def test_a_dangerous_pattern_comes_back_422_with_what_was_typed(network):
    response = network.post("/equipe/cheques/nouveau", data={
        **programme_form(number_pattern="(a+)+", name="Mon dispositif"),
        "csrf_token": network.token})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#number_pattern"' in page and 'value="(a+)+"' in page
    assert 'value="Mon dispositif"' in page
    assert db.session.scalar(db.select(db.func.count(ChequeProgramme.id))) == 0


def test_the_pattern_is_tested_without_javascript_and_with_htmx(network):
    response = network.post("/equipe/cheques/nouveau", data={
        **programme_form(intent="try", sample="62 072 611 00"), "csrf_token": network.token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "« 6207261100 » est accepté" in page and 'value="62 072 611 00"' in page
    assert db.session.scalar(db.select(db.func.count(ChequeProgramme.id))) == 0
    fragment = network.post("/equipe/cheques/essai", data={
        "number_pattern": "[0-9]{10}", "sample": "ABC"},
        headers={"HX-Request": "true", "X-CSRFToken": network.token})
    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "refusé" in text and "<html" not in text


def test_only_network_admins_create_or_edit_programmes(app, factory, site, admin):
    programme = ChequeProgramme(name="APTIC", issuer="D", operator="APTIC",
                                number_pattern="[0-9]{10}", validity_end=date(2026, 12, 31))
    db.session.add(programme)
    db.session.commit()
    for url in ("/equipe/cheques/nouveau", f"/equipe/cheques/{programme.id}/modifier"):
        assert admin.get(url).status_code == 403
        assert admin.post(url, data={**programme_form(name="Pris"),
                                     "csrf_token": admin.token}).status_code == 403
    assert admin.post("/equipe/cheques/essai", data={"csrf_token": admin.token}).status_code \
        == 403
    db.session.expire_all()
    assert db.session.get(ChequeProgramme, programme.id).name == "APTIC"
    assert not db.session.scalar(db.select(AuditEvent).filter_by(action="programme.updated"))
    listing = admin.get("/equipe/cheques").get_data(as_text=True)
    assert "APTIC" in listing and "/equipe/cheques/nouveau" not in listing
    reception = signed_in(app, factory.staff(site, StaffRole.RECEPTION))
    assert reception.get("/equipe/cheques").status_code == 403
    assert reception.get(f"/equipe/cheques/{programme.id}").status_code == 403
