"""Realistic sample data for each document kind, for designing templates and for the
README's pictures: ``flask --app portal documents sample KIND --out FILE.pdf``.

Each sample is also the contract of its template: the keys a snapshot must carry. Values
are plain data, already formatted in French (dates, amounts as ``10,00\u202f€``, counts),
with U+202F before ``: ; ! ?`` and inside ``« »`` where the data itself has them.
"""

from __future__ import annotations

from typing import Any

from portal.models.vocab import DocumentKind

SITE: dict[str, Any] = {
    "name": "Cyberbase de Méricourt",
    "address": "Rue Henri Darras",
    "postcode": "62680",
    "city": "Méricourt",
    "phone": "03 21 69 92 92",
    "aptic_accreditation": "APTIC-62-0042",
    "other_accreditation": "Espace France Services labellisé",
    "signatory_name": "Nathalie Caron",
    "signatory_role": "Directrice de la Cyberbase",
}

CERTIFICATE: dict[str, Any] = {
    "lang": "fr",
    "site": SITE,
    "number": "ATT-2026-MER-000042",
    "doc_title": "Attestation de participation",
    "person_name": "Martine Delannoy",
    "person_first_name": "Martine",
    "person_public_name": "Martine D.",
    "action_phrase": "a participé à l’atelier",
    "title": "Créer et utiliser son adresse e-mail",
    "nature": "atelier collectif d’initiation au numérique (action de médiation numérique)",
    "dates_phrase": "Le mardi 1er\u00a0décembre 2026, de 14:00 à 16:00",
    "duration": "2\u00a0h",
    "place": "Cyberbase de Méricourt, salle informatique",
    "objectives": [
        "Créer une adresse e-mail et choisir un mot de passe solide",
        "Lire, écrire et envoyer un message",
        "Joindre un document ou une photo à un message",
        "Reconnaître un message frauduleux («\u202fhameçonnage\u202f»)",
    ],
    "issued_on": "1er\u00a0décembre 2026",
    "verify_url": "https://portail.example.fr/v/K7PM3QX9RT2W",
    "code_display": "K7PM-3QX9-RT2W",
}

COURSE_CERTIFICATE: dict[str, Any] = {
    **CERTIFICATE,
    "number": "PAR-2026-MER-000007",
    "doc_title": "Attestation de fin de parcours",
    "person_name": "Jean-Pierre Lefebvre",
    "person_first_name": "Jean-Pierre",
    "person_public_name": "Jean-Pierre L.",
    "action_phrase": "a suivi le parcours",
    "title": "Premiers pas avec l’ordinateur",
    "nature": "parcours d’initiation au numérique en 4 ateliers collectifs "
              "(action de médiation numérique)",
    "dates_phrase": "Du 3 au 24\u00a0novembre 2026, 4 séances",
    "duration": "8\u00a0h",
    "objectives": [
        "Allumer, éteindre l’ordinateur et se servir de la souris et du clavier",
        "Ouvrir, enregistrer et retrouver un document",
        "Naviguer sur internet et faire une recherche",
        "Se méfier des arnaques et protéger ses données personnelles",
    ],
    "issued_on": "25\u00a0novembre 2026",
    "verify_url": "https://portail.example.fr/v/M3HT7XKQ9C4D",
    "code_display": "M3HT-7XKQ-9C4D",
}

#: the programme most cheques belong to (its name, as printed on receipts and slips).
APTIC_62 = "Pass Numérique APTIC – Département du Pas-de-Calais"
APTIC_CALL = "Pass Numérique APTIC – Communauté d’agglomération de Lens-Liévin"
REGIE_MENTION = (
    "Recette encaissée par la régie de recettes de la Cyberbase, Ville de Méricourt "
    "(arrêté municipal n°\u00a02021-118 du 12\u00a0avril 2021). "
    "Régisseuse titulaire\u202f: Nathalie Caron."
)

#: one receipt per service paid, numbered in sequence (régie de recettes).
RECEIPT: dict[str, Any] = {
    "lang": "fr",
    "site": SITE,
    "number": "REC-2026-MER-000017",
    "doc_title": "Reçu de chèques APTIC",
    "issued_on": "1er\u00a0décembre 2026 à 13:52",
    "person_name": "Martine Delannoy",
    #: ``kind`` is printed before the title: "Atelier", "Accompagnement individuel"…
    "service": {
        "kind": "Atelier",
        "title": "Créer et utiliser son adresse e-mail",
        "when": "Séance du mardi 1er\u00a0décembre 2026, de 14:00 à 16:00",
        "place": "Cyberbase de Méricourt, salle informatique",
        "price": "2 chèques APTIC",
    },
    "cheques": [
        {"number": "6207 2611 0348", "programme": APTIC_62, "value": "10,00\u202f€"},
        {"number": "6207 2611 0349", "programme": APTIC_62, "value": "10,00\u202f€"},
    ],
    "cheque_count": "2 chèques",
    "total": "20,00\u202f€",
    "total_words": "vingt euros",  # optional: the amount in words
    "staff_name": "Karim Benali",
    "staff_role": "animateur",
    "regie_mention": REGIE_MENTION,
}

_ATTENDEES = [
    ("Martine Delannoy", "present", ""),
    ("Jean-Pierre Lefebvre", "present", ""),
    ("Fatima Benkhelifa", "present", ""),
    ("Gérard Dubois", "absent", ""),
    ("Sylvie Wojciechowski", "present", ""),
    ("Noël Carpentier", "excused", "A prévenu par téléphone"),
    ("Aïcha Haddou", "present", ""),
    ("Bernard Lecocq", "present", ""),
    ("Chantal Vasseur", "present", ""),
    ("Œdipe L’Hôte", "present", "Sans inscription"),
]
_STATUS_LABELS = {"present": "Présent", "absent": "Absent", "excused": "Excusé", "booked": ""}

#: the sheet of one session; ``status_key`` (present, absent, excused or empty) styles the
#: status, ``note`` is an optional line under the name.
ATTENDANCE: dict[str, Any] = {
    "lang": "fr",
    "site": SITE,
    "number": "EMA-2026-MER-000031",
    "doc_title": "Feuille d’émargement",
    "issued_on": "1er\u00a0décembre 2026 à 16:05",
    "workshop_title": "Créer et utiliser son adresse e-mail",
    "date": "Mardi 1er\u00a0décembre 2026",
    "times": "14:00 – 16:00",
    "room": "Salle informatique",
    "animator": "Karim Benali",
    #: one row per person booked (and walk-in); ``status`` is empty before the check-in.
    "rows": [
        {"name": name, "status": _STATUS_LABELS[key], "status_key": key, "note": note}
        for name, key, note in _ATTENDEES
    ],
    #: before the check-in, only ``booked`` is known: the others stay blank, to fill in.
    "totals": {"booked": "9", "present": "8", "absent": "1", "excused": "1"},
}

_SERVICES = [
    ("Atelier «\u202fCréer et utiliser son adresse e-mail\u202f»", 2),
    ("Accompagnement individuel – démarches administratives", 1),
    ("Atelier «\u202fPremiers pas avec l’ordinateur\u202f»", 2),
    ("Atelier «\u202fMon espace santé et Ameli\u202f»", 1),
    ("Accompagnement individuel – mise à jour France Travail", 1),
    ("Fab Lab – atelier «\u202fBroderie numérique\u202f»", 2),
]
_STAFF = ["K.\u00a0Benali", "N.\u00a0Caron"]


def _deposit_cheques(prefix: str, first: int, days: list[int]) -> list[dict[str, str]]:
    """Cheques taken in November 2026, in booklet order, for the sample deposit slip."""
    cheques = []
    number = first
    for n, day_of_month in enumerate(days):
        service, price = _SERVICES[n % len(_SERVICES)]
        for _ in range(price):
            cheques.append({
                "number": f"{prefix} {number // 10000:04d} {number % 10000:04d}",
                "value": "10,00\u202f€",
                "taken_on": f"{day_of_month:02d}/11/2026",
                "service": service,
                "staff": _STAFF[n % 2],
            })
            number += 1
    return cheques


_DEPOSIT_62 = _deposit_cheques("6207", 26110341, [3, 3, 4, 5, 5, 6, 10, 10, 12, 13, 13, 17,
                                                  17, 18, 19, 20, 20, 24, 24, 25, 26, 27, 27])
_DEPOSIT_CALL = _deposit_cheques("6218", 40270112, [4, 12, 18, 19, 26, 27])

#: the monthly deposit slip of a site, cheques grouped by programme (each group its table,
#: numbered on from the previous one); ``count`` is a phrase, ``count_number`` a figure.
DEPOSIT: dict[str, Any] = {
    "lang": "fr",
    "site": SITE,
    "number": "BOR-2026-MER-000011",
    "doc_title": "Bordereau de remise de chèques",
    "month": "novembre 2026",
    "period_phrase": "Chèques reçus du 1er au 30\u00a0novembre 2026",
    "issued_on": "1er\u00a0décembre 2026",
    "programmes": [
        {"name": APTIC_62, "operator": "APTIC", "cheques": _DEPOSIT_62,
         "count": f"{len(_DEPOSIT_62)} chèques", "count_number": str(len(_DEPOSIT_62)),
         "value": f"{len(_DEPOSIT_62) * 10},00\u202f€"},
        {"name": APTIC_CALL, "operator": "APTIC", "cheques": _DEPOSIT_CALL,
         "count": f"{len(_DEPOSIT_CALL)} chèques", "count_number": str(len(_DEPOSIT_CALL)),
         "value": f"{len(_DEPOSIT_CALL) * 10},00\u202f€"},
    ],
    "total_count": f"{len(_DEPOSIT_62) + len(_DEPOSIT_CALL)} chèques",
    "total_count_number": str(len(_DEPOSIT_62) + len(_DEPOSIT_CALL)),
    "total_value": f"{(len(_DEPOSIT_62) + len(_DEPOSIT_CALL)) * 10},00\u202f€",
    "regisseur_name": "Nathalie Caron",
    "regisseur_role": "régisseuse titulaire",
    "regie_mention": REGIE_MENTION,
}

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
    ("Yannick Descamps", "YAN2JC", "N9BQ3FKM"),
]

CARDS: dict[str, Any] = {
    "lang": "fr",
    "site": SITE,
    "number": "CAR-2026-MER-000008",
    "doc_title": "Cartes d’accès au portail",
    #: printed in step 1: the address people type (no scheme, no trailing slash).
    "portal_address": "portail.mericourt.fr",
    #: one card per person; ``qr_text`` is what the check-in scanner reads (the identifier
    #: as stored); ``code`` is left out when the person already has a password.
    "cards": [
        {"name": name, "identifier": f"{login[:3]}-{login[3:]}", "qr_text": login,
         "code": f"{code[:4]}-{code[4:]}", "code_expires": "26\u00a0décembre 2026"}
        for name, login, code in _CARD_PEOPLE
    ],
}

SAMPLES: dict[DocumentKind, dict[str, Any]] = {
    DocumentKind.CERTIFICATE: CERTIFICATE,
    DocumentKind.COURSE_CERTIFICATE: COURSE_CERTIFICATE,
    DocumentKind.RECEIPT: RECEIPT,
    DocumentKind.ATTENDANCE_SHEET: ATTENDANCE,
    DocumentKind.DEPOSIT_SLIP: DEPOSIT,
    DocumentKind.LOGIN_CARD: CARDS,
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
