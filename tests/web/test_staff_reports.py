"""The dashboard and its printed report: figures, charts readable without JavaScript (SVG with
its title, summary and data table), a bad period kept and explained (422), access refused."""

from __future__ import annotations

import html
import io
import re
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader

from portal.clock import PARIS
from portal.extensions import db
from portal.models.audit import AuditEvent
from portal.models.catalogue import WorkshopTheme
from portal.models.vocab import BookingStatus, Gender, StaffRole, Theme
from tests.conftest import login
from tests.pdf.helpers import accessibility_problems, flat, pdf_text

OCTOBER = "/equipe/rapports?site={site}&periode=mois&mois=2026-10"


@pytest.fixture
def scene(app, factory, frozen_now):
    site = factory.site(code="MER", name="Cyberbase de Méricourt")
    other = factory.site(code="LEN", name="Médiathèque de Lens")
    workshop = factory.workshop(title="Internet")
    workshop.theme_links = [WorkshopTheme(theme=Theme.EMAIL)]
    db.session.commit()
    for place, people in ((site, 3), (other, 2)):
        start = datetime(2026, 10, 5, 10, 0, tzinfo=PARIS)
        session = factory.session(place, workshop, starts_at=start,
                                  ends_at=start + timedelta(hours=2))
        for n in range(people):
            factory.booking(session, factory.beneficiary(place, gender=Gender.FEMALE,
                                                         commune="Méricourt"),
                            BookingStatus.PRESENT if n else BookingStatus.ABSENT)
    return site, other


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_site_month_shows_figures_and_charts_without_javascript(app, factory, scene):
    site, _other = scene
    client = app.test_client()
    login(client, factory.staff(site, StaffRole.ANIMATEUR).email)
    response = client.get(OCTOBER.format(site=site.id))
    assert response.status_code == 200
    body = page(response)
    assert "Cyberbase de Méricourt – octobre 2026" in body
    assert re.search(r"<dd>2</dd>\s*</div>", body)  # two collective accompaniments
    assert "<script" not in body.split("<main", 1)[1].split("</main>", 1)[0]
    figure = body.split('id="graphique-theme"', 1)[1].split("</figure>", 1)[0]
    assert 'role="img" aria-labelledby="graphique-theme-titre"' in figure
    assert '<figcaption id="graphique-theme-titre"' in figure
    assert "En tête : « E-mail », 2 accompagnements, soit 100" in figure
    assert "<caption>Données : Thèmes</caption>" in figure
    assert "<th scope=\"row\">E-mail</th><td>2</td>" in figure
    assert "Comment ces chiffres sont comptés" in body
    assert "Médiathèque de Lens" not in body


def test_the_network_is_the_network_administrators(app, factory, scene):
    site, _other = scene
    client = app.test_client()
    login(client, factory.staff(is_network_admin=True).email)
    body = page(client.get("/equipe/rapports?periode=mois&mois=2026-10"))
    assert "Tout le réseau – octobre 2026" in body
    assert re.search(r"séances tenues</dt><dd>2</dd>", body)
    animateur = app.test_client()
    login(animateur, factory.staff(site, StaffRole.ANIMATEUR).email)
    assert animateur.get("/equipe/rapports?site=reseau&mois=2026-10").status_code == 403
    assert animateur.get("/equipe/rapports/pdf?site=reseau&mois=2026-10").status_code == 403


def test_a_bad_period_is_refused_and_kept(app, factory, scene):
    site, _other = scene
    client = app.test_client()
    login(client, factory.staff(site, StaffRole.ADMIN).email)
    response = client.get(f"/equipe/rapports?site={site.id}&periode=trimestre&trimestre=2026-9")
    assert response.status_code == 422
    body = page(response)
    assert 'href="#trimestre">Choisissez un trimestre, par exemple 2026-4.' in body
    assert 'value="2026-9"' in body
    assert '<option value="trimestre" selected>' in body
    assert client.get(f"/equipe/rapports?site={site.id}&periode=dates&du=2026-10-09"
                      "&au=2026-10-01").status_code == 422


def test_access_reception_403_another_site_404(app, factory, scene):
    site, other = scene
    client = app.test_client()
    login(client, factory.staff(site, StaffRole.RECEPTION).email)
    assert client.get(OCTOBER.format(site=site.id)).status_code == 403
    assert client.get("/equipe/rapports").status_code == 403
    animateur = app.test_client()
    login(animateur, factory.staff(site, StaffRole.ANIMATEUR).email)
    assert animateur.get(OCTOBER.format(site=other.id)).status_code == 404
    assert animateur.get(OCTOBER.format(site="abc")).status_code == 404
    assert animateur.get("/equipe/rapports/pdf?site=" + str(other.id)).status_code == 404


def test_the_printed_report_holds_the_figures_and_is_audited(app, factory, scene):
    site, _other = scene
    client = app.test_client()
    staff = factory.staff(site, StaffRole.ADMIN)
    login(client, staff.email)
    response = client.get(f"/equipe/rapports/pdf?site={site.id}&periode=mois&mois=2026-10")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert reader.metadata.title.startswith("Rapport d’activité – Cyberbase de Méricourt")
    text = flat(pdf_text(response.data))
    assert "Rapport d’activité" in text and "octobre 2026" in text
    assert "Accompagnements collectifs 2" in text
    assert "E-mail 2 100 %" in text
    assert "Comment ces chiffres sont comptés" in text
    assert accessibility_problems(response.data) == []
    event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "report.pdf"))
    assert event.actor_id == staff.id and event.site_id == site.id
    assert event.details["period"] == {"periode": "mois", "mois": "2026-10"}


def test_the_navigation_shows_reports_only_to_who_may_see_them(app, factory, scene):
    site, _other = scene
    reception, animateur = app.test_client(), app.test_client()
    login(reception, factory.staff(site, StaffRole.RECEPTION).email)
    login(animateur, factory.staff(site, StaffRole.ANIMATEUR).email)
    assert ">Rapports</a>" not in page(reception.get("/equipe/programme"))
    assert ">Rapports</a>" in page(animateur.get("/equipe/programme"))
