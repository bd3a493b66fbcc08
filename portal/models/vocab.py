"""The fixed vocabularies of the domain (docs/domain.md#activity-model), with their French labels.

Codes are stable (stored, exported); labels are shown and translated.
"""

from __future__ import annotations

from flask_babel.speaklater import LazyString

from portal import i18n
from portal.models.types import LabelledEnum


def _l(string: str) -> LazyString:
    """A label translated when shown, through the request's catalogue (portal/i18n.py)."""
    return LazyString(i18n.gettext, string)


def lazy_pgettext(context: str, string: str) -> LazyString:
    return LazyString(i18n.pgettext, context, string)


class Theme(LabelledEnum):
    DIAGNOSTIC = "diagnostic", _l("Diagnostic numérique")
    EQUIPMENT_HANDLING = "equipment_handling", _l("Prendre en main du matériel")
    MAINTENANCE = "maintenance", _l("Maintenance de matériel")
    DIGITAL_CONTENT = "digital_content", _l("Gérer ses contenus numériques")
    BROWSING = "browsing", _l("Navigation sur internet")
    EMAIL = "email", _l("E-mail")
    OFFICE = "office", _l("Bureautique")
    SOCIAL_MEDIA = "social_media", _l("Réseaux sociaux communication")
    HEALTH = "health", _l("Santé")
    BANKING_SHOPPING = "banking_shopping", _l("Banque et achats en ligne")
    PROFESSIONAL = "professional", _l("Accompagner un professionnel")
    EMPLOYMENT = "employment", _l("Insertion professionnelle")
    SECURITY = "security", _l("Prévention en sécurité numérique")
    PARENTING = "parenting", _l("Parentalité")
    SCHOOLING = "schooling", _l("Scolarité et numérique")
    MAKING = "making", _l("Créer avec le numérique (Fab Lab)")
    CULTURE = "culture", _l("Culture numérique")
    AI = "ai", _l("Intelligence artificielle (IA)")
    ADMIN_PROCEDURES = "admin_procedures", _l("Aide aux démarches administratives")


class AdminSubtheme(LabelledEnum):
    """Only used together with ``Theme.ADMIN_PROCEDURES``."""

    PAPERS = "papers", _l("Papiers - Élections - Citoyenneté")
    FAMILY = "family", _l("Famille - Scolarité")
    SOCIAL_HEALTH = "social_health", _l("Social - Santé")
    WORK = "work", _l("Travail - Formation - Entreprise")
    HOUSING = "housing", _l("Logement")
    TRANSPORT = "transport", _l("Transports - Mobilité")
    MONEY = "money", _l("Argent - Impôts")
    JUSTICE = "justice", _l("Justice")
    FOREIGNERS = "foreigners", _l("Étrangers - Europe")
    LEISURE = "leisure", _l("Loisirs - Sports - Culture")
    ASSOCIATIONS = "associations", _l("Associations")


class Level(LabelledEnum):
    BEGINNER = "beginner", _l("Débutant")
    INTERMEDIATE = "intermediate", _l("Intermédiaire")
    ADVANCED = "advanced", _l("Avancé")


class Equipment(LabelledEnum):
    COMPUTER = "computer", _l("Ordinateur")
    PHONE = "phone", _l("Téléphone")
    TABLET = "tablet", _l("Tablette")
    OTHER = "other", _l("Autre")
    NONE = "none", _l("Pas de matériel")


class PlaceType(LabelledEnum):
    ON_SITE = "on_site", _l("Lieu d'activité")
    HOME = "home", _l("À domicile")
    REMOTE = "remote", _l("À distance")
    OTHER = "other", _l("Autre lieu")


class Autonomy(LabelledEnum):
    GUIDED = "guided", _l("Avec guidage")
    PARTLY = "partly", _l("Autonome avec guidage en cas de besoin")
    AUTONOMOUS = "autonomous", _l("Autonome")


class Gender(LabelledEnum):
    MALE = "male", _l("Masculin")
    FEMALE = "female", _l("Féminin")
    UNDISCLOSED = "undisclosed", _l("Non communiqué")


class SocialStatus(LabelledEnum):
    RETIRED = "retired", _l("Retraité")
    UNEMPLOYED = "unemployed", _l("Sans emploi")
    EMPLOYED = "employed", _l("En emploi")
    STUDENT = "student", _l("Scolarisé")
    UNDISCLOSED = "undisclosed", _l("Non communiqué")


class WorkshopKind(LabelledEnum):
    COLLECTIVE = "collective", _l("Collectif")
    INDIVIDUAL = "individual", _l("Individuel")


class SessionStatus(LabelledEnum):
    SCHEDULED = "scheduled", _l("Prévue")
    CANCELLED = "cancelled", _l("Annulée")
    CLOSED = "closed", _l("Clôturée")


class BookingStatus(LabelledEnum):
    """Attendance statuses after the national appointment service's convention."""

    BOOKED = "booked", _l("Inscrit")
    WAITLISTED = "waitlisted", _l("Sur liste d'attente")
    PRESENT = "present", _l("Présent")
    EXCUSED = "excused", _l("Excusé")
    ABSENT = "absent", _l("Absent")
    CANCELLED = "cancelled", _l("Annulé")


#: statuses that hold a seat in the session.
SEAT_HOLDING = (BookingStatus.BOOKED, BookingStatus.PRESENT)
#: statuses counted as seats taken in figures (dashboard, network view): a seat held, and the
#: seat of someone absent without a word, which nobody else could use.
SEAT_TAKEN = (BookingStatus.BOOKED, BookingStatus.PRESENT, BookingStatus.ABSENT)


class BookingSource(LabelledEnum):
    ONLINE = "online", _l("En ligne")
    DESK = "desk", _l("À l'accueil")
    WALK_IN = "walk_in", _l("Sans inscription")


class CompletionRule(LabelledEnum):
    ALL_SESSIONS = "all_sessions", _l("Toutes les séances suivies")
    THRESHOLD = "threshold", _l("Un nombre minimum de séances suivies")


class StaffRole(LabelledEnum):
    RECEPTION = "reception", lazy_pgettext("rôle", "Accueil")
    ANIMATEUR = "animateur", _l("Animateur")
    ADMIN = "admin", _l("Administrateur")


class DocumentKind(LabelledEnum):
    CERTIFICATE = "certificate", _l("Attestation de participation")
    COURSE_CERTIFICATE = "course_certificate", _l("Attestation de fin de parcours")
    RECEIPT = "receipt", _l("Reçu de chèques APTIC")
    LOGIN_CARD = "login_card", _l("Carte d'accès")
    ATTENDANCE_SHEET = "attendance_sheet", _l("Feuille d'émargement")
    DEPOSIT_SLIP = "deposit_slip", _l("Bordereau de remise")


#: number prefix of each document kind (``ATT-2026-MER-000042``).
DOCUMENT_PREFIX = {
    DocumentKind.CERTIFICATE: "ATT",
    DocumentKind.COURSE_CERTIFICATE: "PAR",
    DocumentKind.RECEIPT: "REC",
    DocumentKind.LOGIN_CARD: "CAR",
    DocumentKind.ATTENDANCE_SHEET: "EMA",
    DocumentKind.DEPOSIT_SLIP: "BOR",
}


class MessageChannel(LabelledEnum):
    SMS = "sms", _l("SMS")
    EMAIL = "email", _l("E-mail")


class ContactChannel(LabelledEnum):
    """How a person prefers to be told (no choice: e-mail, else SMS, else in person)."""

    EMAIL = "email", _l("E-mail")
    SMS = "sms", _l("SMS")
    PAPER = "paper", _l("Papier, en personne")


class ActorKind(LabelledEnum):
    STAFF = "staff", _l("Équipe")
    BENEFICIARY = "beneficiary", _l("Bénéficiaire")
    SYSTEM = "system", _l("Système")
    ANONYMOUS = "anonymous", _l("Anonyme")


class Language(LabelledEnum):
    FR = "fr", "Français"
    EN = "en", "English"


#: labels that agree with the person they describe: the feminine form for a woman, a neutral
#: wording when the gender is not given (the plain ``label`` is the masculine form).
_FEMININE: dict[LabelledEnum, str] = {
    SocialStatus.RETIRED: _l("Retraitée"),
    SocialStatus.STUDENT: _l("Scolarisée"),
    BookingStatus.BOOKED: _l("Inscrite"),
    BookingStatus.PRESENT: _l("Présente"),
    BookingStatus.EXCUSED: _l("Excusée"),
    BookingStatus.ABSENT: _l("Absente"),
}
_NEUTRAL: dict[LabelledEnum, str] = {
    SocialStatus.RETIRED: _l("À la retraite"),
    SocialStatus.STUDENT: _l("À l'école ou en études"),
    BookingStatus.BOOKED: _l("Place réservée"),
    BookingStatus.PRESENT: _l("Présence notée"),
    BookingStatus.EXCUSED: _l("Absence excusée"),
    BookingStatus.ABSENT: _l("Absence"),
}


def label_for(member: LabelledEnum, gender: Gender | None) -> str:
    """The label of ``member`` said of a person of ``gender`` (e.g. "Retraitée" for a woman,
    "À la retraite" when the gender is not given)."""
    if gender is Gender.FEMALE:
        return _FEMININE.get(member, member.label)
    if gender is Gender.MALE:
        return member.label
    return _NEUTRAL.get(member, member.label)


AGE_BRACKETS: tuple[tuple[int | None, int | None, str], ...] = (
    (None, 11, "<12"),
    (12, 17, "12-17"),
    (18, 24, "18-24"),
    (25, 39, "25-39"),
    (40, 59, "40-59"),
    (60, 69, "60-69"),
    (70, None, "70+"),
)


def age_bracket(birth_year: int | None, current_year: int) -> str:
    """The funders' age bracket from a year of birth (only the year is ever stored)."""
    if birth_year is None:
        return "undisclosed"
    age = current_year - birth_year
    for low, high, code in AGE_BRACKETS:
        if (low is None or age >= low) and (high is None or age <= high):
            return code
    return "undisclosed"
