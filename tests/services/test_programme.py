"""The programme's data: sessions of a site by week (rooms × days) and by month, on Paris days
(across the change of time and the month's bounds), with their fill and waiting lists, in a
fixed number of queries; the printed programme's data in French."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import event

from portal.clock import PARIS
from portal.extensions import db
from portal.models.catalogue import WorkshopTheme
from portal.models.vocab import BookingStatus, SessionStatus, StaffRole, Theme
from portal.services import programme
from portal.services.errors import NotFound
from tests.services.scene import code_of


def wall(*fields: int) -> datetime:
    """A wall-clock time in Paris."""
    return datetime(*fields, tzinfo=PARIS)


def at(site, factory, when: datetime, *, room="Salle 1", workshop=None, **fields):
    """A session of ``site`` starting at ``when`` (Paris wall clock), for one hour."""
    start = when
    return factory.session(site, workshop, starts_at=start, ends_at=start + timedelta(hours=1),
                           room=room, **fields)


def titles(entries) -> list[str]:
    return [e.session.workshop.title for e in entries]


def test_a_week_runs_from_monday_to_sunday_in_paris_across_the_change_of_time(app, factory):
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    # Summer time ends on Sunday 25 October 2026 at 03:00 (Paris).
    at(site, factory, wall(2026, 10, 18, 23, 30), workshop=factory.workshop(title="Avant"))
    at(site, factory, wall(2026, 10, 19, 0, 15), workshop=factory.workshop(title="Lundi"))
    at(site, factory, wall(2026, 10, 25, 23, 30), workshop=factory.workshop(title="Dimanche"))
    at(site, factory, wall(2026, 10, 26, 0, 30), workshop=factory.workshop(title="Après"))
    week = programme.week(staff, site, date(2026, 10, 22))
    assert week.days[0] == date(2026, 10, 19) and week.days[-1] == date(2026, 10, 25)
    assert titles(week.entries) == ["Lundi", "Dimanche"]
    assert titles(week.on(date(2026, 10, 25))) == ["Dimanche"]
    assert (week.previous, week.next) == (date(2026, 10, 12), date(2026, 10, 26))
    assert titles(programme.week(staff, site, week.next).entries) == ["Après"]


def test_a_month_keeps_its_own_paris_days(app, factory):
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    at(site, factory, wall(2026, 11, 1, 0, 10), workshop=factory.workshop(title="Premier"))
    at(site, factory, wall(2026, 11, 30, 23, 30), workshop=factory.workshop(title="Dernier"))
    at(site, factory, wall(2026, 12, 1, 0, 30), workshop=factory.workshop(title="Décembre"))
    at(site, factory, wall(2026, 10, 31, 23, 59), workshop=factory.workshop(title="Octobre"))
    month = programme.month(staff, site, date(2026, 11, 17))
    assert month.first == date(2026, 11, 1)
    assert [day for day, _ in month.days] == [date(2026, 11, 1), date(2026, 11, 30)]
    assert titles(month.entries) == ["Premier", "Dernier"]
    assert (month.previous, month.next) == (date(2026, 10, 1), date(2026, 12, 1))


def test_rooms_by_name_each_cell_its_sessions_with_fill_waiting_and_cancelled(app, factory):
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    full = at(site, factory, wall(2026, 12, 8, 14, 0), room="Salle B", capacity=2)
    for _ in range(2):
        factory.booking(full, factory.beneficiary(site))
    factory.booking(full, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                    waitlist_position=1)
    cancelled = at(site, factory, wall(2026, 12, 8, 9, 0), room="salle a",
                   status=SessionStatus.CANCELLED)
    unnamed = at(site, factory, wall(2026, 12, 9, 9, 0), room="")
    other_site = factory.site()
    at(other_site, factory, wall(2026, 12, 8, 9, 0))
    week = programme.week(staff, site, date(2026, 12, 7))
    assert week.rooms == ["salle a", "Salle B", ""]
    [entry] = week.cell("Salle B", date(2026, 12, 8))
    assert (entry.session.id, entry.taken, entry.capacity, entry.waitlisted) == (full.id, 2, 2, 1)
    [entry] = week.cell("salle a", date(2026, 12, 8))
    assert entry.session.id == cancelled.id and entry.cancelled
    assert [e.session.id for e in week.cell("", date(2026, 12, 9))] == [unnamed.id]
    assert week.cell("Salle B", date(2026, 12, 9)) == []


def test_the_week_costs_the_same_queries_for_one_session_or_thirty(app, factory,
                                                                   count_queries):
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)

    def queries() -> int:
        db.session.expire_all()
        with count_queries() as counter:
            week = programme.week(staff, site, date(2026, 12, 7))
            for entry in week.entries:
                _ = (entry.session.workshop.title, entry.room, entry.waitlisted)
        return counter.count

    at(site, factory, wall(2026, 12, 7, 9, 0))
    one = queries()
    for n in range(29):
        session = at(site, factory, wall(2026, 12, 7 + n % 7, 10 + n % 8, 0),
                     room=f"Salle {n % 4}")
        factory.booking(session, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                        waitlist_position=1)
    assert queries() == one


def test_the_week_reads_the_waiting_lists_of_its_own_sessions_only(app, factory):
    """Not the bookings of every session ever held (a department's year, a million rows, read
    on every opening of the calendar otherwise)."""
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    before = at(site, factory, wall(2026, 11, 30, 9, 0))
    factory.booking(before, factory.beneficiary(site), status=BookingStatus.WAITLISTED,
                    waitlist_position=1)
    at(site, factory, wall(2026, 12, 8, 9, 0))
    statements: list[str] = []

    def keep(_conn, _cursor, statement, *_args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", keep)
    try:
        week = programme.week(staff, site, date(2026, 12, 7))
    finally:
        event.remove(db.engine, "before_cursor_execute", keep)
    assert [entry.waitlisted for entry in week.entries] == [0]
    waiting = next(s for s in statements if "FROM booking" in s)
    counted = waiting.split("FROM booking", 1)[1].split("GROUP BY", 1)[0]
    assert "workshop_session.starts_at >=" in counted, waiting


def test_another_sites_programme_does_not_exist_for_the_staff_member(app, factory):
    site, other = factory.site(), factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    assert code_of(lambda: programme.week(staff, other, date(2026, 12, 7))) == "not_found"
    with pytest.raises(NotFound):
        programme.month(staff, other, date(2026, 12, 1))
    assert [s.id for s in programme.sites_for(staff)] == [site.id]


def test_the_printed_programme_groups_by_week_then_theme_in_french(app, factory):
    site = factory.site(name="Cyberbase de Méricourt", address="2 rue Jean Jaurès",
                        postcode="62680", city="Méricourt", phone="03 21 00 00 00")
    mail = factory.workshop(title="Écrire un e-mail", price_cheques=1)
    db.session.add(WorkshopTheme(workshop_id=mail.id, theme=Theme.EMAIL))
    free = factory.workshop(title="Découvrir la tablette", price_cheques=0)
    db.session.add(WorkshopTheme(workshop_id=free.id, theme=Theme.EQUIPMENT_HANDLING))
    db.session.commit()
    at(site, factory, wall(2026, 12, 1, 14, 0), workshop=mail, capacity=12)
    at(site, factory, wall(2026, 12, 2, 9, 30), workshop=free, room="Salle 2")
    at(site, factory, wall(2026, 12, 8, 14, 0), workshop=mail, status=SessionStatus.CANCELLED)
    full = at(site, factory, wall(2026, 12, 9, 14, 0), workshop=mail, capacity=1)
    factory.booking(full, factory.beneficiary(site))
    data = programme.programme_data(site, date(2026, 12, 1), programme.Paper.A3,
                                    lambda w: f"https://portail.example.fr/w/{w.id}")
    assert data["doc_title"] == "Programme de décembre 2026 – Cyberbase de Méricourt"
    assert data["lang"] == "fr" and data["paper"] == "A3"
    first, second = data["weeks"]
    assert first["title"] == "Du mardi 1er décembre au 6 décembre 2026"
    assert [t["label"] for t in first["themes"]] == ["Prendre en main du matériel", "E-mail"]
    [tablet] = first["themes"][0]["sessions"]
    assert tablet == {"day": "Mercredi 2 décembre", "time": "09:30–10:30",
                      "title": "Découvrir la tablette", "room": "Salle 2",
                      "seats": "8 places libres sur 8", "price": "Gratuit"}
    assert first["themes"][1]["sessions"][0]["seats"] == "12 places libres sur 12"
    assert first["themes"][1]["sessions"][0]["price"] == "1 chèque APTIC"
    # The cancelled session of the 8th is left out; the full one says so.
    assert [s["seats"] for t in second["themes"] for s in t["sessions"]] == ["Complet"]
    assert [w["title"] for w in data["workshops"]] == ["Découvrir la tablette",
                                                       "Écrire un e-mail"]
    assert data["workshops"][1]["url"] == f"https://portail.example.fr/w/{mail.id}"


def test_an_empty_month_or_an_unknown_paper_is_not_printed(app, factory):
    site = factory.site()
    staff = factory.staff(site, StaffRole.RECEPTION)
    assert code_of(lambda: programme.print_programme(
        staff, site, date(2026, 12, 1), "A4", lambda w: "x")) == "empty_programme"
    at(site, factory, wall(2026, 12, 1, 14, 0))
    assert code_of(lambda: programme.print_programme(
        staff, site, date(2026, 12, 1), "A5", lambda w: "x")) == "bad_paper"


# --- the printed programme, read back -----------------------------------------------------------


def booking_address(workshop) -> str:
    return f"https://portail.example.fr/moi/ateliers?q=atelier&site={workshop.id}"


def printed(site, staff, paper: str) -> bytes:
    return programme.print_programme(staff, site, date(2026, 12, 1), paper, booking_address)


def test_the_printed_programme_is_a_tagged_french_pdf_whose_qr_codes_scan(app, factory,
                                                                          tmp_path):
    import io

    import zxingcpp
    from PIL import Image
    from pypdf import PdfReader

    from tests.pdf.helpers import (
        accessibility_problems,
        flat,
        fonts,
        page_count,
        page_images,
        pdf_text,
        title,
    )

    site = factory.site(name="Cyberbase de Méricourt", address="2 rue Jean Jaurès",
                        postcode="62680", city="Méricourt", phone="03 21 00 00 00")
    staff = factory.staff(site, StaffRole.RECEPTION)
    mail = factory.workshop(title="Écrire un e-mail", price_cheques=2)
    tablet = factory.workshop(title="Découvrir la tablette", price_cheques=0)
    at(site, factory, wall(2026, 12, 3, 14, 0), workshop=mail, room="Salle 2")
    at(site, factory, wall(2026, 12, 15, 9, 30), workshop=tablet)
    pdf = printed(site, staff, "A4")
    assert accessibility_problems(pdf) == []
    assert title(pdf) == "Programme de décembre 2026 – Cyberbase de Méricourt"
    assert all(embedded for _name, embedded in fonts(pdf))
    text = flat(pdf_text(pdf, layout=False)).replace("\n", " ")
    for words in ("Programme de décembre 2026", "2 rue Jean Jaurès", "62680 Méricourt",
                  "03 21 00 00 00", "Jeudi 3 décembre", "14:00–15:00", "Salle 2",
                  "2 chèques APTIC", "Gratuit", "8 places libres sur 8",
                  "Du mardi 1er décembre au 6 décembre 2026", "Autres ateliers"):
        assert words in text, words
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / 72 * 25.4), round(float(box.height) / 72 * 25.4)) == \
        (210, 297)
    links = {str(annotation.get_object()["/A"]["/URI"])
             for page in reader.pages for annotation in page.get("/Annots") or []
             if "/A" in annotation.get_object()}
    assert links == {booking_address(mail), booking_address(tablet)}
    last = page_count(pdf)
    [image] = page_images(pdf, tmp_path, dpi=200, first=last, last=last)
    with Image.open(image) as picture:
        scanned = {result.text for result in zxingcpp.read_barcodes(picture)
                   if result.format == zxingcpp.BarcodeFormat.QRCode}
    assert scanned == {booking_address(mail), booking_address(tablet)}
    a3 = PdfReader(io.BytesIO(printed(site, staff, "A3"))).pages[0].mediabox
    assert (round(float(a3.width) / 72 * 25.4), round(float(a3.height) / 72 * 25.4)) == \
        (297, 420)


@pytest.mark.parametrize("text", ["", "2026-13-01", "0001-01-01", "9999-12-31", "2026-1-5",
                                  "2026-12-07\x00", "２０２６-１２-０７", None])
def test_a_day_that_is_not_one_or_out_of_range_is_none(text):
    assert programme.parse_day(text) is None


def test_days_and_months_are_read_in_their_iso_form():
    assert programme.parse_day(" 2026-12-07 ") == date(2026, 12, 7)
    assert programme.parse_month("2026-12") == date(2026, 12, 1)
    assert programme.parse_month("2100-13") is None and programme.parse_month("9999-12") is None
