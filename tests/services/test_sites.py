"""A site's settings (``services/sites.py``): checked fields and ranges refused in words, the
audit of what changed, who may change them, the logo and signature stored as clean PNGs and
printed on the documents issued after."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest
from PIL import Image
from pypdf import PdfReader

from portal.extensions import db
from portal.models import AuditEvent, Site
from portal.models.vocab import BookingStatus, StaffRole
from portal.services import documents, sites
from portal.services.audit import Actor
from portal.services.errors import NotAllowed, NotFound, ValidationFailed
from portal.services.sites import SiteInput

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def admin(factory, site):
    return factory.staff(site, StaffRole.ADMIN, full_name="Nathalie Caron")


@pytest.fixture
def by_admin(admin) -> Actor:
    return Actor.of(admin)


def png(width: int = 120, height: int = 60) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (31, 78, 158)).save(out, format="PNG")
    return out.getvalue()


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action)
                                   .order_by(AuditEvent.id)))


def refusal(site, data, actor) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        sites.update(site, data, actor=actor)
    db.session.rollback()
    return caught.value.details["fields"]


def test_settings_are_saved_and_only_the_changed_fields_audited(site, by_admin):
    data = replace(SiteInput.of(site), address="  Rue Henri  Darras ", postcode="62680",
                   email="Accueil@Mericourt.FR", opening_hours="Mardi 9 h – 12 h\r\nJeudi 14 h",
                   cancellation_deadline_minutes="1440", max_upcoming_bookings="8")
    changed = sites.update(site, data, actor=by_admin)
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.address == "Rue Henri Darras" and stored.email == "accueil@mericourt.fr"
    assert stored.opening_hours == "Mardi 9 h – 12 h\nJeudi 14 h"
    assert stored.cancellation_deadline_minutes == 1440 and stored.max_upcoming_bookings == 8
    assert set(changed) == {"address", "postcode", "email", "opening_hours",
                            "cancellation_deadline_minutes", "max_upcoming_bookings"}
    [event] = events("site.updated")
    assert set(event.details["changes"]) == set(changed)
    assert event.details["changes"]["max_upcoming_bookings"] == {"before": 5, "after": 8}
    assert sites.update(stored, SiteInput.of(stored), actor=by_admin) == {}
    assert len(events("site.updated")) == 1


@pytest.mark.parametrize(("field", "value"), [
    ("cancellation_deadline_minutes", "10081"), ("cancellation_deadline_minutes", "-1"),
    ("idle_timeout_minutes", "4"), ("idle_timeout_minutes", "121"),
    ("max_upcoming_bookings", "0"), ("max_upcoming_bookings", "51"),
    ("max_upcoming_bookings", "cinq"), ("name", ""), ("name", "x" * 121),
    ("email", "pas-une-adresse"), ("postcode", "6268"), ("phone", "<script>"),
    ("city", "Lens\x00"), ("opening_hours", "x" * 2001),
])
def test_values_out_of_range_are_refused_in_words_before_the_database(site, by_admin, field,
                                                                      value):
    before = {name: getattr(site, name) for name in (*sites.TEXTS, *sites.NUMBERS)}
    fields = refusal(site, replace(SiteInput.of(site), **{field: value}), by_admin)
    assert list(fields) == [field] and fields[field]
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert {name: getattr(stored, name) for name in before} == before
    assert not events("site.updated")


def test_only_an_administrator_of_the_site_changes_it(factory, site, staff):
    with pytest.raises(NotAllowed):
        sites.update(site, replace(SiteInput.of(site), city="Lens"), actor=Actor.of(staff))
    other = factory.site(code="LEN", name="Cyberbase de Lens")
    elsewhere = factory.staff(other, StaffRole.ADMIN)
    with pytest.raises(NotFound):
        sites.update(site, replace(SiteInput.of(site), city="Lens"), actor=Actor.of(elsewhere))
    with pytest.raises(NotFound):
        sites.site_for(elsewhere, site.id)
    with pytest.raises(NotAllowed):
        sites.set_image(site, "logo", png(), actor=Actor.of(staff))
    assert sites.editable_sites(elsewhere) == [other]
    assert sites.editable_sites(staff) == []
    network = factory.staff(is_network_admin=True)
    assert {s.id for s in sites.editable_sites(network)} == {site.id, other.id}


def test_a_logo_is_stored_as_png_audited_by_digest_and_removed(site, by_admin):
    image = sites.set_image(site, "logo", png(), actor=by_admin)
    db.session.expire_all()
    stored = db.session.get(Site, site.id)
    assert stored.logo == image.data and stored.logo_mime == "image/png"
    [event] = events("site.logo_set")
    after = event.details["changes"]["logo"]["after"]
    assert after["bytes"] == len(image.data) and len(after["sha256"]) == 64
    assert sites.remove_image(stored, "logo", actor=by_admin) is True
    assert sites.remove_image(stored, "logo", actor=by_admin) is False
    db.session.expire_all()
    assert db.session.get(Site, site.id).logo is None
    assert len(events("site.logo_removed")) == 1


def test_a_refused_upload_keeps_the_previous_image(site, by_admin):
    sites.set_image(site, "signature", png(), actor=by_admin)
    with pytest.raises(ValidationFailed) as caught:
        sites.set_image(site, "signature", b"<svg><script>alert(1)</script></svg>",
                        actor=by_admin)
    assert list(caught.value.details["fields"]) == ["signature"]
    db.session.rollback()
    assert db.session.get(Site, site.id).signature_image.startswith(b"\x89PNG")
    assert len(events("site.signature_set")) == 1


def images_in(pdf: bytes) -> list[tuple[int, int]]:
    reader = PdfReader(io.BytesIO(pdf))
    return [(image.image.width, image.image.height) for page in reader.pages
            for image in page.images]


def test_the_logo_and_signature_are_printed_on_the_documents_issued_after(factory, site,
                                                                         by_admin):
    workshop = factory.workshop(title="Créer son adresse e-mail", grants_attestation=True)
    session = factory.session(site, workshop)
    person = factory.beneficiary(site, first_name="Martine", last_name="Delannoy")
    booking = factory.booking(session, person, status=BookingStatus.PRESENT)
    before = documents.issue_certificate(booking, actor=by_admin,
                                         verify_url="https://p.example.fr/v/{code}")
    assert (173, 61) not in images_in(before.pdf)
    sites.set_image(site, "logo", png(173, 61), actor=by_admin)
    sites.set_image(site, "signature", png(151, 47), actor=by_admin)
    other = factory.booking(session, factory.beneficiary(site, first_name="Karim"),
                            status=BookingStatus.PRESENT)
    after = documents.issue_certificate(other, actor=by_admin,
                                        verify_url="https://p.example.fr/v/{code}")
    assert {(173, 61), (151, 47)} <= set(images_in(after.pdf))
    sheet = documents.issue_attendance_sheet(session, actor=by_admin)
    assert (173, 61) in images_in(sheet.pdf)


def test_a_sample_document_prints_the_sample_logo_and_signature(app, tmp_path):
    out = tmp_path / "attestation.pdf"
    result = app.test_cli_runner().invoke(args=["documents", "sample", "certificate",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert {(240, 120), (300, 90)} <= set(images_in(out.read_bytes()))
