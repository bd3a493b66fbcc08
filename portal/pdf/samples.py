"""Sample documents for designing templates, for tests and for the README's pictures:
``flask --app portal documents sample KIND --out FILE.pdf``.

Each sample goes through the same snapshot builders as the documents the services issue
(``portal/services/snapshots.py``), fed with objects of the data model that are never stored
(no database): what a sample shows is what a centre prints. Only the objects are made up
here — a centre modelled on the Méricourt Cyberbase, its staff, workshops, people, cheques.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from portal.models.bookings import Accompaniment, Booking
from portal.models.catalogue import Course, Workshop, WorkshopSession
from portal.models.people import Beneficiary, Site, StaffMember, StaffSiteRole
from portal.models.vocab import BookingSource, BookingStatus, DocumentKind, StaffRole
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import snapshots

#: the public address printed on certificates and cards.
SAMPLE_ADDRESS = "https://portail.example.fr"
#: Tuesday 1 December 2026: the workshop runs from 14:00 to 16:00 in Paris (13:00 UTC).
WORKSHOP_START = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
#: when the documents of that afternoon are printed (16:05 in Paris).
ISSUED_AT = datetime(2026, 12, 1, 15, 5, tzinfo=UTC)

REGIE_MENTION = (
    "Recette encaissée par la régie de recettes de la Cyberbase, Ville de Méricourt "
    "(arrêté municipal n°\u00a02021-118 du 12\u00a0avril 2021). "
    "Régisseuse titulaire\u202f: Nathalie Caron."
)


def site() -> Site:
    return Site(id=1, code="MER", name="Cyberbase de Méricourt", address="Rue Henri Darras",
                postcode="62680", city="Méricourt", phone="03 21 69 92 92",
                aptic_accreditation="APTIC-62-0042",
                other_accreditation="Espace France Services labellisé",
                signatory_name="Nathalie Caron", signatory_role="Directrice de la Cyberbase",
                regie_mention=REGIE_MENTION, regisseur_name="Nathalie Caron",
                regisseur_role="régisseuse titulaire",
                receipt_signatory_role="Le régisseur ou son mandataire")


def _staff(centre: Site, staff_id: int, name: str,
           role: StaffRole = StaffRole.ANIMATEUR) -> StaffMember:
    return StaffMember(id=staff_id, full_name=name, is_network_admin=False,
                       roles=[StaffSiteRole(site_id=centre.id, role=role)])


def _person(person_id: int, name: str, login_id: str = "") -> Beneficiary:
    first, _space, last = name.partition(" ")
    return Beneficiary(id=person_id, first_name=first, last_name=last,
                       login_id=login_id or f"P{person_id:05d}")


def _email_workshop() -> Workshop:
    return Workshop(
        id=1, title="Créer et utiliser son adresse e-mail", duration_minutes=120,
        price_cheques=2, grants_attestation=True,
        objectives="Créer une adresse e-mail et choisir un mot de passe solide\n"
                   "Lire, écrire et envoyer un message\n"
                   "Joindre un document ou une photo à un message\n"
                   "Reconnaître un message frauduleux («\u202fhameçonnage\u202f»)")


def _session(centre: Site, workshop: Workshop, starts_at: datetime, *, session_id: int = 1,
             animator: StaffMember | None = None, room: str = "Salle informatique",
             course: Course | None = None) -> WorkshopSession:
    return WorkshopSession(id=session_id, site=centre, site_id=centre.id, workshop=workshop,
                           starts_at=starts_at,
                           ends_at=starts_at + timedelta(minutes=workshop.duration_minutes),
                           room=room, animator=animator, course=course)


def _booking(session: WorkshopSession, person: Beneficiary, booking_id: int = 1, *,
             status: BookingStatus = BookingStatus.PRESENT,
             source: BookingSource = BookingSource.ONLINE) -> Booking:
    return Booking(id=booking_id, session=session, session_id=session.id, beneficiary=person,
                   status=status, source=source)


# --- the samples ------------------------------------------------------------------------------


def certificate() -> dict[str, Any]:
    centre = site()
    session = _session(centre, _email_workshop(), WORKSHOP_START)
    booking = _booking(session, _person(1, "Martine Delannoy", "MAR762"))
    return snapshots.numbered(snapshots.certificate(booking, issued_at=ISSUED_AT),
                              "ATT-2026-MER-000042", code="K7PM3QX9RT2W",
                              verify_url=SAMPLE_ADDRESS + "/v/{code}")


def course_certificate() -> dict[str, Any]:
    centre = site()
    course = Course(id=1, site=centre, site_id=centre.id,
                    title="Premiers pas avec l’ordinateur",
                    objectives="Allumer, éteindre l’ordinateur et se servir de la souris et "
                               "du clavier\n"
                               "Ouvrir, enregistrer et retrouver un document\n"
                               "Naviguer sur internet et faire une recherche\n"
                               "Se méfier des arnaques et protéger ses données personnelles")
    workshops = [Workshop(id=n, title=title, duration_minutes=120, price_cheques=1)
                 for n, title in enumerate(("Le clavier et la souris", "Mes documents",
                                            "Internet pas à pas", "Se protéger en ligne"), 2)]
    first = datetime(2026, 11, 3, 13, 0, tzinfo=UTC)  # Tuesdays of November, 14:00 in Paris
    sessions = [_session(centre, workshop, first + timedelta(weeks=n), session_id=n + 2,
                         course=course) for n, workshop in enumerate(workshops)]
    person = _person(2, "Jean-Pierre Lefebvre", "JEA4K9")
    snapshot = snapshots.course_certificate(course, person, sessions, len(sessions),
                                            issued_at=datetime(2026, 11, 25, 9, 0, tzinfo=UTC))
    return snapshots.numbered(snapshot, "PAR-2026-MER-000007", code="M3HT7XKQ9C4D",
                              verify_url=SAMPLE_ADDRESS + "/v/{code}")


APTIC_62 = "Pass Numérique APTIC – Département du Pas-de-Calais"
APTIC_CALL = "Pass Numérique APTIC – Communauté d’agglomération de Lens-Liévin"


def _programme(programme_id: int, name: str, issuer: str) -> ChequeProgramme:
    return ChequeProgramme(id=programme_id, name=name, issuer=issuer, operator="APTIC",
                           face_value_cents=1000)


def _programmes() -> list[ChequeProgramme]:
    return [_programme(1, APTIC_62, "Département du Pas-de-Calais"),
            _programme(2, APTIC_CALL, "Communauté d’agglomération de Lens-Liévin")]


def _cheque(cheque_id: int, programme: ChequeProgramme, number: str, taken_at: datetime,
            by: StaffMember, centre: Site, *, booking: Booking | None = None,
            accompaniment: Accompaniment | None = None) -> Cheque:
    return Cheque(id=cheque_id, programme=programme, programme_id=programme.id, number=number,
                  value_cents=programme.face_value_cents, redeemed_at=taken_at,
                  redeemed_by=by, redeemed_by_id=by.id, site_id=centre.id,
                  booking_id=booking.id if booking else None,
                  accompaniment_id=accompaniment.id if accompaniment else None)


def receipt() -> dict[str, Any]:
    centre = site()
    karim = _staff(centre, 1, "Karim Benali")
    session = _session(centre, _email_workshop(), WORKSHOP_START, animator=karim)
    booking = _booking(session, _person(1, "Martine Delannoy", "MAR762"),
                       status=BookingStatus.BOOKED)
    taken_at = WORKSHOP_START - timedelta(minutes=8)
    aptic_62 = _programmes()[0]
    cheques = [_cheque(n, aptic_62, number, taken_at, karim, centre, booking=booking)
               for n, number in enumerate(("620726110348", "620726110349"), 1)]
    snapshot = snapshots.receipt(cheques, site=centre, person=booking.beneficiary, staff=karim,
                                 booking=booking)
    return snapshots.numbered(snapshot, "REC-2026-MER-000017")


#: (name, status, came without booking)
_ATTENDEES = [
    ("Martine Delannoy", BookingStatus.PRESENT, False),
    ("Jean-Pierre Lefebvre", BookingStatus.PRESENT, False),
    ("Fatima Benkhelifa", BookingStatus.PRESENT, False),
    ("Gérard Dubois", BookingStatus.ABSENT, False),
    ("Sylvie Wojciechowski", BookingStatus.PRESENT, False),
    ("Noël Carpentier", BookingStatus.EXCUSED, False),
    ("Aïcha Haddou", BookingStatus.PRESENT, False),
    ("Bernard Lecocq", BookingStatus.PRESENT, False),
    ("Chantal Vasseur", BookingStatus.PRESENT, False),
    ("Œdipe L’Hôte", BookingStatus.PRESENT, True),
]


def attendance() -> dict[str, Any]:
    centre = site()
    session = _session(centre, _email_workshop(), WORKSHOP_START,
                       animator=_staff(centre, 1, "Karim Benali"))
    bookings = [_booking(session, _person(n, name), n, status=status,
                         source=BookingSource.WALK_IN if walk_in else BookingSource.ONLINE)
                for n, (name, status, walk_in) in enumerate(_ATTENDEES, 1)]
    bookings.sort(key=lambda b: (b.beneficiary.last_name, b.beneficiary.first_name))
    snapshot = snapshots.attendance_sheet(session, bookings, issued_at=ISSUED_AT)
    return snapshots.numbered(snapshot, "EMA-2026-MER-000031")


#: what was paid with cheques in November 2026: a workshop (title, price) or an individual
#: accompaniment (its summary, one cheque).
_SERVICES: list[tuple[str, int, bool]] = [
    ("Créer et utiliser son adresse e-mail", 2, True),
    ("démarches administratives", 1, False),
    ("Premiers pas avec l’ordinateur", 2, True),
    ("Mon espace santé et Ameli", 1, True),
    ("mise à jour France Travail", 1, False),
    ("Broderie numérique au Fab Lab", 2, True),
]
#: the days of November 2026 on which each programme's cheques were taken.
_DAYS = {1: [3, 3, 4, 5, 5, 6, 10, 10, 12, 13, 13, 17, 17, 18, 19, 20, 20, 24, 24, 25, 26, 27,
             27],
         2: [4, 12, 18, 19, 26, 27]}
_FIRST_NUMBER = {1: 620726110341, 2: 621840270112}


def deposit() -> dict[str, Any]:
    centre = site()
    staff = [_staff(centre, 1, "Karim Benali"), _staff(centre, 2, "Nathalie Caron",
                                                       StaffRole.ADMIN)]
    person = _person(1, "Martine Delannoy")
    cheques: list[Cheque] = []
    bookings: dict[int, Booking] = {}
    accompaniments: dict[int, Accompaniment] = {}
    for programme in _programmes():
        number = _FIRST_NUMBER[programme.id]
        for n, day_of_month in enumerate(_DAYS[programme.id]):
            title, price, workshop = _SERVICES[n % len(_SERVICES)]
            taken_at = datetime(2026, 11, day_of_month, 13, 30, tzinfo=UTC)
            service_id = len(bookings) + len(accompaniments) + 1
            booking = accompaniment = None
            if workshop:
                session = _session(centre, Workshop(id=service_id, title=title,
                                                    duration_minutes=120, price_cheques=price),
                                   taken_at, session_id=service_id)
                booking = bookings[service_id] = _booking(session, person, service_id)
            else:
                accompaniment = accompaniments[service_id] = Accompaniment(
                    id=service_id, site_id=centre.id, summary=title, started_at=taken_at)
            for _cheque_of_service in range(price):
                cheques.append(_cheque(len(cheques) + 1, programme, str(number), taken_at,
                                       staff[n % 2], centre, booking=booking,
                                       accompaniment=accompaniment))
                number += 1
    snapshot = snapshots.deposit_slip(centre, 2026, 11, cheques, bookings=bookings,
                                      accompaniments=accompaniments,
                                      issued_at=datetime(2026, 12, 1, 8, 30, tzinfo=UTC))
    return snapshots.numbered(snapshot, "BOR-2026-MER-000011")


#: (name, identifier, first-login code or "" once the person has a password)
_CARD_PEOPLE = [
    ("Martine Delannoy", "MAR762", "CYBER262"),
    ("Jean-Pierre Lefebvre", "JEA4K9", "PXT7M4QA"),
    ("Fatima Benkhelifa", "FAT83H", "R9KD2WHE"),
    ("Gérard Dubois", "GER2V7", "M4ZQ8T3N"),
    ("Sylvie Wojciechowski-Vandenbussche", "SYL5TZ", "H7YE2KPW"),
    ("Noël Carpentier", "NOE9XB", "C3VR6JMA"),
    ("Aïcha Haddou", "AIC6PD", "W2TF9NXQ"),
    ("Bernard Lecocq", "BER7MS", "Q8HK4ZRD"),
    ("Chantal Vasseur", "CHA3RW", "T6NP2YEB"),
    ("Œdipe L’Hôte", "OED8KF", "K5MX7CVS"),
    ("Zoé Martin", "ZOE4QN", "E2WD8HTR"),
    ("Yannick Descamps", "YAN2JC", ""),
]


def cards() -> dict[str, Any]:
    expires = ISSUED_AT + timedelta(days=25)
    people = [snapshots.Card(_person(n, name, login_id), code or None, expires)
              for n, (name, login_id, code) in enumerate(_CARD_PEOPLE, 1)]
    snapshot = snapshots.login_cards(site(), people, portal_address="portail.mericourt.fr")
    return snapshots.numbered(snapshot, "CAR-2026-MER-000008")


_BUILDERS: dict[DocumentKind, Callable[[], dict[str, Any]]] = {
    DocumentKind.CERTIFICATE: certificate,
    DocumentKind.COURSE_CERTIFICATE: course_certificate,
    DocumentKind.RECEIPT: receipt,
    DocumentKind.ATTENDANCE_SHEET: attendance,
    DocumentKind.DEPOSIT_SLIP: deposit,
    DocumentKind.LOGIN_CARD: cards,
}

#: the names the command accepts.
KIND_NAMES = {
    "certificate": DocumentKind.CERTIFICATE,
    "course-certificate": DocumentKind.COURSE_CERTIFICATE,
    "receipt": DocumentKind.RECEIPT,
    "card": DocumentKind.LOGIN_CARD,
    "attendance": DocumentKind.ATTENDANCE_SHEET,
    "deposit": DocumentKind.DEPOSIT_SLIP,
}


@cache
def _built(kind: DocumentKind) -> dict[str, Any]:
    return _BUILDERS[kind]()


def sample(kind: DocumentKind) -> dict[str, Any]:
    """The sample snapshot of a kind (a copy: change it freely)."""
    return copy.deepcopy(_built(kind))


@cache
def images() -> dict[str, str | None]:
    """The sample centre's logo and signature, drawn here (no file, no database) and passed
    like a site's own (``portal.pdf.documents.site_images``)."""
    import io

    from PIL import Image, ImageDraw

    from portal.pdf.documents import site_images

    logo = Image.new("RGBA", (240, 120), (0, 0, 0, 0))
    pen = ImageDraw.Draw(logo)
    pen.rounded_rectangle((4, 4, 236, 116), radius=22, fill=(31, 78, 158, 255))
    pen.ellipse((28, 30, 88, 90), fill=(255, 255, 255, 255))
    pen.rectangle((110, 40, 210, 52), fill=(255, 255, 255, 255))
    pen.rectangle((110, 68, 180, 80), fill=(255, 255, 255, 255))
    signature = Image.new("RGBA", (300, 90), (0, 0, 0, 0))
    ink = ImageDraw.Draw(signature)
    ink.line([(10, 70), (50, 20), (80, 60), (120, 25), (160, 65), (200, 30), (280, 55)],
             fill=(20, 30, 90, 255), width=5, joint="curve")

    def png(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    return site_images(png(logo), png(signature))
