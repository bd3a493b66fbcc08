"""The public verification page: valid, revoked, unknown; minimal data; rate limits."""

from __future__ import annotations

import pytest

from portal.models.vocab import BookingStatus
from portal.services import documents
from portal.services.audit import Actor


@pytest.fixture
def certificate(factory):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    workshop = factory.workshop(title="Découvrir l'ordinateur", grants_attestation=True)
    booking = factory.booking(factory.session(site, workshop),
                              factory.beneficiary(site, first_name="Martine",
                                                  last_name="Delannoy", phone="0611223344"),
                              status=BookingStatus.PRESENT)
    return documents.issue_certificate(booking, actor=Actor.system(),
                                       verify_url="http://localhost/v/{code}")


def test_valid_certificate_shows_minimal_data(client, certificate):
    response = client.get(f"/v/{certificate.verification_code}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Document authentique et valide" in page
    assert "Martine D." in page and "Delannoy" not in page and "0611223344" not in page
    assert "Découvrir l&#39;ordinateur" in page and certificate.number in page


def test_typed_code_in_any_form_is_found(client, certificate):
    typed = certificate.snapshot["code_display"].lower()
    response = client.get(f"/verifier?code={typed}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/v/{certificate.verification_code}"


def test_revoked_certificate_is_clear_not_an_error(client, certificate):
    documents.revoke(certificate, "Erreur", actor=Actor.system())
    response = client.get(f"/v/{certificate.verification_code}")
    assert response.status_code == 200
    assert "a été annulé" in response.get_data(as_text=True)


def test_unknown_code_is_clear(client):
    response = client.get("/v/ZZZZZZZZZZZZ")
    assert response.status_code == 404
    assert "Aucun document ne correspond" in response.get_data(as_text=True)
    assert client.get("/verifier").status_code == 200


def test_lookups_are_rate_limited(client):
    statuses = [client.get("/v/ZZZZZZZZZZZZ").status_code for _ in range(35)]
    assert statuses.count(429) >= 5
