"""Realistic sample data for each document kind, for designing templates and for the
README's pictures: ``flask --app portal documents sample KIND --out FILE.pdf``."""

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
    "action_phrase": "a participé à l'atelier",
    "title": "Créer et utiliser son adresse e-mail",
    "nature": "atelier collectif d'initiation au numérique (action de médiation numérique)",
    "dates_phrase": "Le mardi 1\u202fdécembre 2026, de 14:00 à 16:00",
    "duration": "2\u00a0h",
    "place": "Cyberbase de Méricourt, salle informatique",
    "objectives": [
        "Créer une adresse e-mail et choisir un mot de passe solide",
        "Lire, écrire et envoyer un message",
        "Joindre un document ou une photo à un message",
        "Reconnaître un message frauduleux (« hameçonnage »)",
    ],
    "issued_on": "1\u202fdécembre 2026",
    "verify_url": "https://portail.example.fr/v/K7PM3QX9RT2W",
    "code_display": "K7PM-3QX9-RT2W",
}

SAMPLES: dict[DocumentKind, dict[str, Any]] = {
    DocumentKind.CERTIFICATE: CERTIFICATE,
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
