"""Demonstration data: a believable centre modelled on the Méricourt Cyberbase.

``load()`` builds one site (code ``MER``), its team, twenty beneficiaries, a catalogue of
workshops and two courses (parcours), about seven weeks of sessions with their bookings,
individual accompaniments and a programme of APTIC cheques, some of them redeemed.

Idempotence: ``load()`` returns at once, changing nothing, when a site with the code ``MER``
already exists (it never updates nor duplicates). To reload the demonstration, start again
from an empty database; the same holds after a load that failed half-way, since the site and
its team are committed first (by the staff service).

Everything is dated relative to ``portal.clock.now()`` (the past 30 days and the next 21 days),
with Europe/Paris wall-clock times and no session on Sundays.

Staff accounts are created through ``accounts.create_staff`` (which commits on its own). The
programme is built the way a centre builds it, through the services and by its own team (so the
audit trail reads like a real centre's): workshops (``services.workshops``), courses
(``services.courses``), a closure day (a public holiday of the window, ``services.closures``),
weekly series and single sessions (``services.scheduling``), with ``portal.clock`` frozen a week
before the first session while it is built (the services refuse the past), then restored exactly
as it was. The two cancelled sessions are cancelled through ``services.scheduling`` too, at the
moment they were called off, so everyone booked is told. Bookings, attendance, closings,
accompaniments and cheques are written directly and committed at the end. Passwords are hashed
as few times as possible (argon2 is slow on purpose): one hash is shared by every beneficiary
who already has a password. The known accounts are listed in ``DEMO_ACCOUNTS`` and by
``print_accounts``.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from portal import clock
from portal.clock import PARIS, now, paris_to_utc
from portal.extensions import db
from portal.models.bookings import Accompaniment, AccompanimentSubtheme, AccompanimentTheme, Booking
from portal.models.catalogue import (
    Workshop,
    WorkshopSession,
)
from portal.models.people import Beneficiary, Site, StaffMember
from portal.models.vocab import (
    SEAT_HOLDING,
    AdminSubtheme,
    Autonomy,
    BookingSource,
    BookingStatus,
    CompletionRule,
    Equipment,
    Gender,
    Level,
    PlaceType,
    SessionStatus,
    SocialStatus,
    StaffRole,
    Theme,
)
from portal.models.vouchers import Cheque, ChequeProgramme
from portal.services import accounts, closures, passwords, scheduling
from portal.services import courses as course_service
from portal.services import workshops as workshop_service
from portal.services.audit import Actor, record
from portal.services.codes import group, random_code
from portal.services.courses import CourseInput
from portal.services.workshops import WorkshopInput

SEED = 2013  # the year the Cyberbase opened: same variety on every load
PAST_DAYS = 30
FUTURE_DAYS = 21
#: a person never holds more upcoming bookings than this (the site allows 5).
UPCOMING_CAP = 3
#: the team built the programme this long before its first session.
PREPARED_BEFORE = timedelta(days=7)

# --- the site -----------------------------------------------------------------------------

SITE_CODE = "MER"
SITE_FIELDS: dict[str, object] = {
    "code": SITE_CODE,
    "name": "Cyberbase de Méricourt",
    "address": "Rue Henri Darras",
    "postcode": "62680",
    "city": "Méricourt",
    "phone": "03 53 01 26 80",  # a number reserved for fiction by the regulator
    "email": "cyberbase.mericourt@example.org",
    "opening_hours": (
        "Lundi : 14 h – 18 h\n"
        "Du mardi au vendredi : 9 h – 12 h et 14 h – 18 h\n"
        "Samedi : 9 h – 12 h\n"
        "Fermé le dimanche et les jours fériés"
    ),
    "description": (
        "L'espace public numérique de la ville, ouvert depuis 2013. "
        "Ateliers pour débuter, aide aux démarches en ligne, recherche d'emploi. "
        "Un Fab Lab depuis 2019 : brodeuse numérique, sublimation, badges, réalité virtuelle. "
        "Lieu agréé APTIC : nous acceptons les chèques Pass Numérique."
    ),
    "aptic_accreditation": "APTIC-62-0042",
    "signatory_name": "Isabelle Delcroix",
    "signatory_role": "Directrice de la Cyberbase",
    # The régie de recettes that takes the APTIC cheques (receipts and deposit slips).
    "regie_mention": (
        "Recette encaissée par la régie de recettes de la Cyberbase, Ville de Méricourt "
        "(arrêté municipal n°\u00a02021-118 du 12\u00a0avril 2021). "
        "Régisseuse titulaire\u202f: Isabelle Delcroix."
    ),
    "regisseur_name": "Isabelle Delcroix",
    "regisseur_role": "régisseuse titulaire",
    "receipt_signatory_role": "La régisseuse ou son mandataire",
    "cancellation_deadline_minutes": 120,
    "idle_timeout_minutes": 20,
}

COMPUTER_ROOM = "Salle informatique"
FAB_LAB = "Fab Lab"
ROOM_ACCESSIBILITY = {
    COMPUTER_ROOM: ("Rez-de-chaussée, accès de plain-pied depuis la rue. "
                    "Table réglable en hauteur et grand écran sur demande."),
    FAB_LAB: ("Rez-de-chaussée, porte large (90 cm), toilettes accessibles à côté. "
              "Certaines machines sont bruyantes : nous prêtons des casques anti-bruit."),
}

# --- accounts -----------------------------------------------------------------------------

# Public on purpose (printed, listed in the README): demonstration databases only, and the
# ``demo`` command refuses to run in production.
ANIMATEUR_PASSWORD = "atelier numérique 2026 animateur"  # noqa: S105
RECEPTION_PASSWORD = "accueil numérique 2026 bienvenue"  # noqa: S105
ADMIN_PASSWORD = "réseau numérique 2026 administrateur"  # noqa: S105
BENEFICIARY_PASSWORD = "mon jardin fleurit en avril"  # noqa: S105
#: login identifiers and first-login code, from the unambiguous alphabet of ``codes``.
MARTINE_LOGIN_ID = "MAR762"
KEVIN_LOGIN_ID = "KEV348"
KEVIN_FIRST_LOGIN_CODE = "CYBER262"
FIRST_LOGIN_CODE_VALIDITY = timedelta(days=30)


@dataclass(frozen=True)
class StaffSpec:
    key: str
    email: str
    full_name: str
    label: str
    role: StaffRole | None  # role at MER; None for the network administrator
    password: str


STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("claire", "claire.delattre@example.org", "Claire Delattre", "Animatrice",
              StaffRole.ANIMATEUR, ANIMATEUR_PASSWORD),
    StaffSpec("julien", "julien.lemaire@example.org", "Julien Lemaire", "Animateur (Fab Lab)",
              StaffRole.ANIMATEUR, ANIMATEUR_PASSWORD),
    StaffSpec("sandrine", "sandrine.lefebvre@example.org", "Sandrine Lefebvre", "Accueil",
              StaffRole.RECEPTION, RECEPTION_PASSWORD),
    StaffSpec("thomas", "thomas.vasseur@example.org", "Thomas Vasseur",
              "Administrateur du réseau", None, ADMIN_PASSWORD),
)


@dataclass(frozen=True)
class DemoAccount:
    """A login printed for the demonstration (and listed in the README)."""

    label: str
    name: str
    identifier: str  # an e-mail address, or a login identifier without its dash
    secret: str
    first_login: bool = False  # the secret is the first-login code of the card

    @property
    def is_staff(self) -> bool:
        return "@" in self.identifier

    @property
    def shown_identifier(self) -> str:
        if self.is_staff:
            return self.identifier
        half = len(self.identifier) // 2
        return f"{self.identifier[:half]}-{self.identifier[half:]}"

    @property
    def shown_secret(self) -> str:
        return group(self.secret) if self.first_login else self.secret


DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    *(DemoAccount(s.label, s.full_name, s.email, s.password) for s in STAFF),
    DemoAccount("Bénéficiaire avec mot de passe", "Martine Delannoy, 67 ans, retraitée",
                MARTINE_LOGIN_ID, BENEFICIARY_PASSWORD),
    DemoAccount("Bénéficiaire, première connexion", "Kévin Duhamel, 23 ans",
                KEVIN_LOGIN_ID, KEVIN_FIRST_LOGIN_CODE, first_login=True),
)

# --- beneficiaries ------------------------------------------------------------------------

POSTCODES = {
    "Méricourt": "62680", "Rouvroy": "62320", "Drocourt": "62320", "Avion": "62210",
    "Sallaumines": "62430", "Billy-Montigny": "62420", "Lens": "62300",
}

#: interests steer who books what: beginner, procedures, jobs, fablab.
F, M, X = Gender.FEMALE, Gender.MALE, Gender.UNDISCLOSED
RETIRED, UNEMPLOYED = SocialStatus.RETIRED, SocialStatus.UNEMPLOYED
EMPLOYED, STUDENT, UNSAID = SocialStatus.EMPLOYED, SocialStatus.STUDENT, SocialStatus.UNDISCLOSED


@dataclass(frozen=True)
class PersonSpec:
    key: str
    first_name: str
    last_name: str
    birth_year: int | None
    gender: Gender
    status: SocialStatus
    commune: str
    email: str
    phone: str
    access: str  # "password", "code" (first-login card not used yet) or "none"
    interests: str
    joined_days_ago: int
    has_no_phone: bool = False
    notes: str = ""
    login_id: str | None = None


PEOPLE: tuple[PersonSpec, ...] = (
    PersonSpec("martine", "Martine", "Delannoy", 1959, F, RETIRED, "Méricourt",
               "martine.delannoy@example.org", "06 39 98 10 01", "password",
               "beginner procedures", 420, login_id=MARTINE_LOGIN_ID),
    PersonSpec("kevin", "Kévin", "Duhamel", 2003, M, UNEMPLOYED, "Avion", "", "06 39 98 10 02",
               "code", "jobs procedures", 12, login_id=KEVIN_LOGIN_ID,
               notes="Carte remise à l'accueil. Première connexion à faire avec lui."),
    PersonSpec("jean_pierre", "Jean-Pierre", "Caron", 1951, M, RETIRED, "Rouvroy", "",
               "06 39 98 10 03", "none", "beginner", 380,
               notes="Préfère les ateliers du matin."),
    PersonSpec("monique", "Monique", "Dufour", 1946, F, RETIRED, "Méricourt", "", "", "none",
               "beginner", 700, has_no_phone=True,
               notes="Vient souvent avec sa fille le mercredi."),
    PersonSpec("fatima", "Fatima", "Benali", 1978, F, EMPLOYED, "Sallaumines",
               "fatima.benali@example.org", "06 39 98 10 05", "password", "fablab procedures",
               250),
    PersonSpec("lucas", "Lucas", "Wattel", 2011, M, STUDENT, "Méricourt", "", "", "none",
               "fablab", 160, notes="Inscrit par sa mère (autorisation parentale signée)."),
    PersonSpec("sebastien", "Sébastien", "Leroy", 1985, M, UNEMPLOYED, "Lens",
               "sebastien.leroy@example.org", "06 39 98 10 07", "password", "jobs procedures", 90),
    PersonSpec("nadia", "Nadia", "Haddad", 1990, F, UNSAID, "Billy-Montigny",
               "nadia.haddad@example.org", "06 39 98 10 08", "password", "procedures fablab", 300),
    PersonSpec("christophe", "Christophe", "Dumont", 1969, M, EMPLOYED, "Drocourt",
               "christophe.dumont@example.org", "", "password", "procedures", 200),
    PersonSpec("yvette", "Yvette", "Potier", 1941, F, RETIRED, "Méricourt", "", "", "none",
               "beginner", 900, has_no_phone=True,
               notes="Préfère recevoir ses rendez-vous sur papier."),
    PersonSpec("amandine", "Amandine", "Carpentier", 1996, F, EMPLOYED, "Avion",
               "amandine.carpentier@example.org", "06 39 98 10 11", "password", "fablab", 140),
    PersonSpec("rachid", "Rachid", "Mansouri", 1964, M, UNEMPLOYED, "Méricourt", "",
               "06 39 98 10 12", "none", "jobs beginner", 75),
    PersonSpec("chantal", "Chantal", "Bernard", 1955, F, RETIRED, "Rouvroy",
               "chantal.bernard@example.org", "06 39 98 10 13", "password", "beginner", 510),
    PersonSpec("dylan", "Dylan", "Lecomte", 2005, M, UNEMPLOYED, "Sallaumines", "",
               "06 39 98 10 14", "none", "jobs fablab", 25,
               notes="Orienté par la mission locale."),
    PersonSpec("alex", "Alex", "Morel", None, X, UNSAID, "Lens", "alex.morel@example.org", "",
               "password", "procedures", 60),
    PersonSpec("bernard", "Bernard", "Lefort", 1949, M, RETIRED, "Billy-Montigny", "", "",
               "none", "beginner", 330, has_no_phone=True),
    PersonSpec("ines", "Inès", "Boulanger", 2009, F, STUDENT, "Méricourt", "", "06 39 98 10 17",
               "none", "fablab", 18),
    PersonSpec("patrick", "Patrick", "Delcourt", 1961, M, RETIRED, "Drocourt",
               "patrick.delcourt@example.org", "06 39 98 10 18", "password",
               "beginner procedures", 45),
    PersonSpec("emilie", "Émilie", "Fontaine", 1983, F, EMPLOYED, "Méricourt",
               "emilie.fontaine@example.org", "06 39 98 10 19", "none", "procedures", 35),
    PersonSpec("camille", "Camille", "Vandamme", 1999, X, UNSAID, "Avion", "", "06 39 98 10 20",
               "none", "jobs", 8),
)

# --- the catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkshopSpec:
    key: str
    title: str
    description: str
    objectives: tuple[str, ...]
    what_to_bring: str
    themes: tuple[Theme, ...]
    subthemes: tuple[AdminSubtheme, ...] = ()
    interest: str = "beginner"
    level: Level = Level.BEGINNER
    equipment: Equipment = Equipment.COMPUTER
    minutes: int = 120
    price: int = 1  # in cheques: one workshop of up to 2 hours = one cheque
    attestation: bool = True
    room: str = COMPUTER_ROOM
    capacity: int = 8


ADMIN = Theme.ADMIN_PROCEDURES  # the only theme that takes sub-themes
WORKSHOPS: tuple[WorkshopSpec, ...] = (
    WorkshopSpec(
        "computer", "Découvrir l'ordinateur",
        "Vous n'avez jamais utilisé d'ordinateur ? Cet atelier est fait pour vous. "
        "Nous avançons pas à pas. Vous apprenez à utiliser la souris et le clavier. "
        "Vous pouvez poser toutes vos questions.",
        ("Allumer et éteindre l'ordinateur",
         "Utiliser la souris : cliquer, double-cliquer, faire glisser",
         "Écrire un texte court avec le clavier",
         "Ouvrir et fermer un programme"),
        "Vos lunettes si vous en portez. Nous prêtons l'ordinateur.",
        (Theme.EQUIPMENT_HANDLING,),
    ),
    WorkshopSpec(
        "internet", "Premiers pas sur Internet",
        "Internet sert à chercher des informations : la météo, les horaires du bus, une recette. "
        "Vous faites vos premières recherches. Vous apprenez à reconnaître un site sûr.",
        ("Ouvrir un navigateur internet",
         "Faire une recherche avec un moteur de recherche",
         "Aller sur un site et revenir en arrière",
         "Reconnaître une publicité ou un faux site"),
        "Rien : nous prêtons l'ordinateur.",
        (Theme.BROWSING, Theme.SECURITY),
    ),
    WorkshopSpec(
        "email", "Créer et utiliser son adresse e-mail",
        "Une adresse e-mail sert dans presque toutes les démarches. "
        "Vous créez votre adresse avec l'animateur. "
        "Vous apprenez à lire, écrire et envoyer un message.",
        ("Créer une adresse e-mail",
         "Lire un message reçu",
         "Écrire et envoyer un message",
         "Joindre un document à un message",
         "Repérer un message frauduleux"),
        "Votre téléphone portable si vous en avez un : il peut recevoir un code.",
        (Theme.EMAIL,),
    ),
    WorkshopSpec(
        "smartphone", "Mon smartphone au quotidien",
        "Vous avez un smartphone mais il vous pose des questions ? Venez avec lui. "
        "Nous réglons ensemble l'écran et le son. Nous installons les applications utiles.",
        ("Régler la taille du texte et le volume",
         "Installer une application",
         "Prendre une photo et l'envoyer",
         "Passer un appel vidéo"),
        "Votre smartphone chargé et son code de déverrouillage.",
        (Theme.EQUIPMENT_HANDLING, Theme.DIGITAL_CONTENT),
        equipment=Equipment.PHONE, capacity=10,
    ),
    WorkshopSpec(
        "france_connect", "France Connect et mes démarches en ligne",
        "France Connect ouvre beaucoup de services publics avec un seul compte. "
        "Vous apprenez à l'utiliser. Vous faites une vraie démarche avec l'animateur.",
        ("Se connecter avec France Connect",
         "Retrouver un document sur un site public",
         "Télécharger et enregistrer une attestation"),
        "Vos identifiants Ameli ou impots.gouv.fr si vous en avez. Votre téléphone portable.",
        (ADMIN,), (AdminSubtheme.PAPERS, AdminSubtheme.SOCIAL_HEALTH),
        interest="procedures",
    ),
    WorkshopSpec(
        "ameli", "Ameli : mon compte santé",
        "Ameli est le site de l'Assurance Maladie. Vous créez votre compte ou vous l'ouvrez. "
        "Vous apprenez à télécharger une attestation. Vous suivez vos remboursements.",
        ("Se connecter à son compte Ameli",
         "Télécharger une attestation de droits",
         "Consulter ses remboursements",
         "Envoyer un message à sa caisse d'assurance maladie"),
        "Votre carte Vitale. Votre téléphone portable. Votre adresse e-mail.",
        (ADMIN, Theme.HEALTH), (AdminSubtheme.SOCIAL_HEALTH,),
        interest="procedures", level=Level.INTERMEDIATE,
    ),
    WorkshopSpec(
        "taxes", "Déclarer ses revenus en ligne",
        "Chaque année, il faut déclarer ses revenus. Sur internet, c'est plus simple. "
        "Nous vous montrons chaque étape, sur le vrai site des impôts.",
        ("Se connecter à son espace particulier sur impots.gouv.fr",
         "Vérifier et corriger sa déclaration",
         "Signer et enregistrer l'accusé de réception",
         "Retrouver son avis d'impôt"),
        "Votre numéro fiscal : il est sur votre dernier avis d'impôt. "
        "Vos justificatifs de revenus.",
        (ADMIN, Theme.BANKING_SHOPPING), (AdminSubtheme.MONEY,),
        interest="procedures", level=Level.INTERMEDIATE,
    ),
    WorkshopSpec(
        "cv", "Mon CV sur ordinateur",
        "Un bon CV aide à trouver un emploi. Vous écrivez votre CV avec un modèle simple. "
        "Vous repartez avec votre CV imprimé et enregistré.",
        ("Écrire son CV avec un modèle",
         "Mettre en valeur ses expériences et ses compétences",
         "Enregistrer son CV en PDF",
         "Envoyer son CV par e-mail"),
        "Les dates de vos emplois et de vos formations. Une clé USB si vous en avez une.",
        (Theme.EMPLOYMENT, Theme.OFFICE),
        interest="jobs", level=Level.INTERMEDIATE,
    ),
    WorkshopSpec(
        "france_travail", "Actualiser sa situation France Travail",
        "Chaque mois, les demandeurs d'emploi doivent s'actualiser. "
        "Vous apprenez à le faire seul, sur ordinateur ou sur téléphone. "
        "Vous découvrez aussi votre espace personnel.",
        ("Se connecter à son espace France Travail",
         "Faire son actualisation mensuelle",
         "Consulter ses courriers et ses rendez-vous",
         "Chercher une offre d'emploi"),
        "Votre identifiant France Travail et votre mot de passe. Votre téléphone portable.",
        (Theme.EMPLOYMENT, ADMIN), (AdminSubtheme.WORK,),
        interest="jobs", minutes=60,
    ),
    WorkshopSpec(
        "embroidery", "Broderie numérique",
        "Au Fab Lab, une machine brode un dessin sur un tissu. "
        "Vous choisissez ou créez un motif sur l'ordinateur. La machine le brode devant vous.",
        ("Préparer un motif simple sur l'ordinateur",
         "Installer le tissu dans le cadre de la brodeuse",
         "Lancer et surveiller une broderie"),
        "Un vêtement ou un tissu en coton à personnaliser. Sinon, nous en fournissons un.",
        (Theme.MAKING,),
        interest="fablab", equipment=Equipment.OTHER, minutes=180, price=2, room=FAB_LAB,
        capacity=6,
    ),
    WorkshopSpec(
        "sublimation", "Sublimation : personnaliser un t-shirt",
        "La sublimation imprime une image sur un t-shirt ou un mug. "
        "Vous préparez votre image sur l'ordinateur. Vous la transférez avec la presse à chaud.",
        ("Préparer une image au bon format",
         "Imprimer une image en miroir",
         "Utiliser la presse à chaud en sécurité"),
        "Une photo ou un dessin sur une clé USB ou sur votre téléphone. "
        "Le t-shirt est fourni.",
        (Theme.MAKING, Theme.DIGITAL_CONTENT),
        interest="fablab", equipment=Equipment.OTHER, room=FAB_LAB, capacity=6,
    ),
    WorkshopSpec(
        "badges", "Fabriquer des badges",
        "Créez vos propres badges ! Vous choisissez une image ou vous la dessinez. "
        "Vous la mettez en page sur l'ordinateur. La machine fabrique le badge. "
        "Atelier ouvert dès 12 ans.",
        ("Mettre une image en page au bon diamètre",
         "Imprimer et découper un visuel",
         "Utiliser la presse à badges"),
        "Rien : le matériel est fourni.",
        (Theme.MAKING, Theme.CULTURE),
        interest="fablab", equipment=Equipment.OTHER, minutes=90, room=FAB_LAB, capacity=6,
    ),
    WorkshopSpec(
        "vr", "Découverte de la réalité virtuelle",
        "Mettez le casque de réalité virtuelle et visitez des lieux du monde entier. "
        "L'animateur reste à côté de vous. Vous pouvez arrêter quand vous voulez.",
        ("Mettre et régler le casque de réalité virtuelle",
         "Se déplacer et choisir dans un monde virtuel",
         "Connaître les précautions d'usage"),
        "Rien. Déconseillé aux moins de 12 ans.",
        (Theme.CULTURE, Theme.MAKING),
        interest="fablab", equipment=Equipment.OTHER, minutes=60, price=0, attestation=False,
        room=FAB_LAB, capacity=6,
    ),
)

#: the weekly timetable: (weekday, Monday = 0; start; workshops taking turns week by week).
#: Tuesday 9:30 and Friday 14:00 are kept for the two courses.
TIMETABLE: tuple[tuple[int, time, tuple[str, ...]], ...] = (
    (0, time(14, 0), ("vr", "badges")),
    (1, time(14, 0), ("ameli", "taxes")),
    (2, time(9, 30), ("smartphone",)),
    (2, time(14, 0), ("badges", "vr")),
    (3, time(9, 30), ("cv",)),
    (3, time(14, 0), ("france_travail", "france_connect")),
    (4, time(9, 30), ("internet", "email")),
    (5, time(9, 30), ("computer",)),
)


@dataclass(frozen=True)
class CourseSpec:
    key: str
    title: str
    description: str
    rule: CompletionRule
    min_sessions: int | None
    workshops: tuple[str, str, str, str]
    weekday: int
    start: time
    #: "ended": the last session was last week; "running": two sessions done, two to come.
    timing: str
    members: tuple[str, ...]
    #: attendance that differs from "present": (session index, person key) → status.
    exceptions: dict[tuple[int, str], BookingStatus] = field(default_factory=dict)


COURSES: tuple[CourseSpec, ...] = (
    CourseSpec(
        "beginners", "Parcours Débuter avec l'ordinateur",
        "Quatre séances pour prendre confiance. On commence par l'ordinateur. "
        "On finit par une vraie démarche en ligne. "
        "Suivez les quatre séances pour recevoir l'attestation de fin de parcours.",
        CompletionRule.ALL_SESSIONS, None,
        ("computer", "internet", "email", "france_connect"), 1, time(9, 30), "ended",
        ("martine", "jean_pierre", "monique", "chantal", "bernard", "yvette"),
        {(1, "chantal"): BookingStatus.EXCUSED, (2, "bernard"): BookingStatus.ABSENT},
    ),
    CourseSpec(
        "fablab", "Parcours Fab Lab : créer et personnaliser",
        "Quatre séances pour découvrir les machines du Fab Lab. "
        "Vous repartez avec vos créations. "
        "Suivez au moins trois séances pour recevoir l'attestation de fin de parcours.",
        CompletionRule.THRESHOLD, 3,
        ("embroidery", "sublimation", "badges", "vr"), 4, time(14, 0), "running",
        ("lucas", "fatima", "amandine", "nadia", "dylan"),
        {(0, "nadia"): BookingStatus.ABSENT},
    ),
)

# --- individual accompaniments -----------------------------------------------------------


@dataclass(frozen=True)
class AccompanimentSpec:
    days_ago: int
    start: time
    minutes: int
    place: PlaceType
    equipment: Equipment
    autonomy: Autonomy
    themes: tuple[Theme, ...]
    subthemes: tuple[AdminSubtheme, ...]
    summary: str
    person: str | None  # None: an anonymous accompaniment
    staff: str


ACCOMPANIMENTS: tuple[AccompanimentSpec, ...] = (
    AccompanimentSpec(2, time(10, 0), 30, PlaceType.ON_SITE, Equipment.COMPUTER, Autonomy.PARTLY,
                      (ADMIN,), (AdminSubtheme.PAPERS,),
                      "Pré-demande de carte d'identité sur le site de l'ANTS", "sebastien",
                      "claire"),
    AccompanimentSpec(4, time(14, 30), 45, PlaceType.ON_SITE, Equipment.COMPUTER,
                      Autonomy.GUIDED, (ADMIN,), (AdminSubtheme.TRANSPORT,),
                      "Changement d'adresse sur la carte grise", None, "julien"),
    AccompanimentSpec(6, time(15, 0), 15, PlaceType.ON_SITE, Equipment.PHONE,
                      Autonomy.AUTONOMOUS, (Theme.EQUIPMENT_HANDLING,), (),
                      "Agrandir le texte du téléphone", "patrick", "claire"),
    AccompanimentSpec(9, time(10, 30), 60, PlaceType.ON_SITE, Equipment.COMPUTER,
                      Autonomy.GUIDED, (ADMIN, Theme.EMPLOYMENT), (AdminSubtheme.WORK,),
                      "Inscription à France Travail", "dylan", "claire"),
    AccompanimentSpec(12, time(10, 30), 30, PlaceType.ON_SITE, Equipment.NONE, Autonomy.GUIDED,
                      (Theme.DIAGNOSTIC,), (),
                      "Diagnostic numérique à l'ouverture du compte", "kevin", "claire"),
    AccompanimentSpec(11, time(16, 0), 30, PlaceType.REMOTE, Equipment.PHONE, Autonomy.PARTLY,
                      (ADMIN, Theme.HEALTH), (AdminSubtheme.SOCIAL_HEALTH,),
                      "Au téléphone : télécharger une attestation de droits Ameli", None,
                      "julien"),
    AccompanimentSpec(15, time(9, 30), 90, PlaceType.HOME, Equipment.TABLET, Autonomy.GUIDED,
                      (Theme.EQUIPMENT_HANDLING, Theme.EMAIL), (),
                      "À domicile : prise en main d'une tablette et de la messagerie", "yvette",
                      "julien"),
    AccompanimentSpec(18, time(14, 0), 15, PlaceType.ON_SITE, Equipment.NONE,
                      Autonomy.AUTONOMOUS, (Theme.SECURITY,), (),
                      "Conseils après un SMS frauduleux (faux colis)", None, "claire"),
    AccompanimentSpec(22, time(11, 0), 45, PlaceType.ON_SITE, Equipment.COMPUTER,
                      Autonomy.PARTLY, (ADMIN,), (AdminSubtheme.HOUSING, AdminSubtheme.MONEY),
                      "Simulation d'aide au logement sur le site de la CAF", "nadia", "julien"),
    AccompanimentSpec(26, time(15, 30), 120, PlaceType.ON_SITE, Equipment.COMPUTER,
                      Autonomy.PARTLY, (Theme.DIGITAL_CONTENT, Theme.OFFICE), (),
                      "Classer ses photos et ses documents, copie sur une clé USB", "rachid",
                      "claire"),
)

# --- cheques ------------------------------------------------------------------------------

PROGRAMME_FIELDS: dict[str, object] = {
    "name": "Pass Numérique APTIC – Pas-de-Calais 2026",
    "issuer": "Département du Pas-de-Calais",
    "operator": "APTIC",
    "face_value_cents": 1000,
    "number_pattern": r"[0-9]{10}",
    "validity_end": date(2026, 12, 31),
    "grace_days": 31,
}
BOOKLETS = 6
CHEQUES_PER_BOOKLET = 5  # Lens-Liévin moved from 10 to 5 cheques per booklet in 2022


def cheque_number(booklet: int, index: int) -> str:
    """``2026`` + département ``62`` + booklet + cheque: ten digits."""
    return f"202662{booklet:02d}{index:02d}"


# --- loading ------------------------------------------------------------------------------


@dataclass
class Planned:
    """A session being built, with what decides its bookings."""

    session: WorkshopSession
    spec: WorkshopSpec
    phase: str  # "past", "live" (under way) or "future"
    course: CourseSpec | None = None
    index: int = 0  # position in the course
    bookings: list[Booking] = field(default_factory=list)
    #: the session will be cancelled (through the service): the reason and the moment.
    cancel: tuple[str, datetime] | None = None


def load() -> None:
    """Load the demonstration centre, unless the site ``MER`` already exists."""
    if db.session.scalar(db.select(Site.id).filter_by(code=SITE_CODE)) is not None:
        return
    at = now()
    rng = random.Random(SEED)
    site = Site(**SITE_FIELDS)
    db.session.add(site)
    db.session.flush()
    staff = _create_staff(site)  # commits the site with the team
    people = _create_beneficiaries(site, staff, at, rng)
    plans = _build_programme(site, staff, at)
    book = BookingMaker(rng, at, staff)
    _fill_sessions(plans, people, book, rng, at)
    _expect_martine_today(plans, people, book)
    _create_accompaniments(site, staff, people, book, at)
    book.finish(people)
    db.session.flush()
    cheques = _create_cheques(site, plans, rng, at)
    _cancel_sessions(plans)
    record(Actor.system(), "demo.loaded", object_type="site", object_id=site.id,
           site_id=site.id, sessions=len(plans), bookings=sum(len(p.bookings) for p in plans),
           beneficiaries=len(people), cheques=len(cheques))
    db.session.commit()


def _create_staff(site: Site) -> dict[str, StaffMember]:
    team: dict[str, StaffMember] = {}
    for spec in STAFF:
        team[spec.key] = accounts.create_staff(
            email=spec.email, full_name=spec.full_name, password=spec.password,
            roles={site.id: spec.role} if spec.role else {},
            is_network_admin=spec.role is None, actor=Actor.system(),
        )
    return team


def _local(day: date, at_time: time) -> datetime:
    """A Paris wall-clock time as UTC; the centre is closed on Sundays and Monday mornings."""
    if day.weekday() == 6:
        day -= timedelta(days=1)
    if day.weekday() == 0 and at_time < time(14, 0):
        at_time = time(14, 30)
    return paris_to_utc(datetime.combine(day, at_time))


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    if end <= start:
        return start
    return start + (end - start) * rng.random()


def _create_beneficiaries(site: Site, staff: dict[str, StaffMember], at: datetime,
                          rng: random.Random) -> dict[str, Beneficiary]:
    today = at.astimezone(PARIS).date()
    password_hash = passwords.hash_password(BENEFICIARY_PASSWORD)
    creators = (staff["claire"], staff["julien"])
    people: dict[str, Beneficiary] = {}
    # The fixed identifiers first, so that new_login_id() can never hand them out.
    for n, spec in enumerate(sorted(PEOPLE, key=lambda s: s.login_id is None)):
        created = _local(today - timedelta(days=spec.joined_days_ago), time(10, 0))
        person = Beneficiary(
            first_name=spec.first_name, last_name=spec.last_name, email=spec.email,
            phone=spec.phone, has_no_phone=spec.has_no_phone, birth_year=spec.birth_year,
            commune=spec.commune, postcode=POSTCODES[spec.commune], gender=spec.gender,
            social_status=spec.status, staff_notes=spec.notes, home_site=site,
            created_by=creators[n % 2], created_at=created,
            login_id=spec.login_id or accounts.new_login_id(),
        )
        if spec.access == "password":
            person.password_hash = password_hash
            person.password_changed_at = created + timedelta(hours=1)
            person.last_login_at = max(created + timedelta(hours=1),
                                       at - timedelta(days=rng.randint(1, 20), hours=3))
        elif spec.access == "code":
            person.first_login_code_hash = passwords.hash_password(KEVIN_FIRST_LOGIN_CODE)
            person.first_login_code_expires_at = at + FIRST_LOGIN_CODE_VALIDITY
        db.session.add(person)
        people[spec.key] = person
    return people


# --- the programme, built through the services ----------------------------------------------

#: one session of the plan: day, start, workshop key, its course and place in it.
Slot = tuple[date, time, str, CourseSpec | None, int]


def _animator(staff: dict[str, StaffMember], spec: WorkshopSpec, day: date) -> StaffMember:
    """Julien runs the Fab Lab and Thursdays; Claire everything else."""
    return staff["julien"] if spec.room == FAB_LAB or day.weekday() == 3 else staff["claire"]


def _build_programme(site: Site, staff: dict[str, StaffMember], at: datetime) -> list[Planned]:
    """The catalogue, a closure day and every session of the window, as the team built them a
    week before the first session; then the sessions already over are closed."""
    today = at.astimezone(PARIS).date()
    first = today - timedelta(days=PAST_DAYS)
    with clock.set_to(paris_to_utc(datetime.combine(first - PREPARED_BEFORE, time(10, 0)))):
        workshops = _create_workshops(site, staff)
        closed = _close_a_day(site, staff, today)
        slots = _slots(today, closed)
        sessions = _schedule_sessions(site, staff, workshops, slots, today)
        _create_courses(site, staff, workshops, slots, sessions)
    plans = []
    for day, start, key, course_spec, index in slots:
        session = sessions[day, start]
        spec = workshops[key][1]
        # Said on the beneficiary's page of the session; the scheduling form does not ask it.
        session.room_accessibility = ROOM_ACCESSIBILITY[spec.room]
        # Today's sessions stay open, even once over: the team closes them after check-in,
        # and a visitor of the demonstration can try the check-in screen all day.
        phase = ("past" if day < today else "live" if session.starts_at <= at else "future")
        if phase == "past":
            session.status = SessionStatus.CLOSED
            session.closed_at = min(at, session.ends_at + timedelta(minutes=15))
            session.closed_by_id = session.animator_id
        plans.append(Planned(session, spec, phase, course_spec, index))
    return plans


def _create_workshops(site: Site, staff: dict[str, StaffMember]
                      ) -> dict[str, tuple[Workshop, WorkshopSpec]]:
    """The site's catalogue, written by its animateurs (Julien the Fab Lab's)."""
    created: dict[str, tuple[Workshop, WorkshopSpec]] = {}
    for spec in WORKSHOPS:
        author = staff["julien"] if spec.room == FAB_LAB else staff["claire"]
        workshop = workshop_service.create(WorkshopInput(
            title=spec.title, description=spec.description,
            themes=[t.value for t in spec.themes], subthemes=[s.value for s in spec.subthemes],
            level=spec.level.value, equipment=spec.equipment.value,
            what_to_bring=spec.what_to_bring, duration_minutes=str(spec.minutes),
            price_cheques=str(spec.price), grants_attestation=spec.attestation,
            objectives="\n".join(spec.objectives), site=str(site.id),
        ), actor=Actor.of(author))
        created[spec.key] = (workshop, spec)
    return created


def easter(year: int) -> date:
    """Easter Sunday (the anonymous Gregorian computus, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (b - (b + 8) // 25 + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    n = h + weekday - 7 * ((a + 11 * h + 22 * weekday) // 451) + 114
    return date(year, n // 31, n % 31 + 1)


def public_holidays(year: int) -> dict[date, str]:
    """France's public holidays of the year, with their names."""
    paques = easter(year)
    return {
        date(year, 1, 1): "Jour de l'An", paques + timedelta(days=1): "Lundi de Pâques",
        date(year, 5, 1): "Fête du Travail", date(year, 5, 8): "Victoire du 8 mai 1945",
        paques + timedelta(days=39): "Ascension",
        paques + timedelta(days=50): "Lundi de Pentecôte",
        date(year, 7, 14): "Fête nationale", date(year, 8, 15): "Assomption",
        date(year, 11, 1): "Toussaint", date(year, 11, 11): "Armistice du 11 novembre 1918",
        date(year, 12, 25): "Noël",
    }


#: weekdays of the weekly series (one workshop every week at that time).
SERIES_WEEKDAYS = frozenset(weekday for weekday, _start, keys in TIMETABLE if len(keys) == 1)
CLOSURE_LABEL = "Fermeture exceptionnelle"


def _closure_day(today: date) -> tuple[date, str]:
    """The day the centre is closed in the window: a public holiday the centre would be open
    (neither a Sunday, nor today, nor a course day), one of the series' days first; else an
    exceptional closure on a series' day two weeks ago."""
    course_days = {day for spec in COURSES for day in _course_days(spec, today)}
    window = [today + timedelta(days=offset) for offset in range(-PAST_DAYS, FUTURE_DAYS + 1)]
    holidays = {**public_holidays(today.year - 1), **public_holidays(today.year),
                **public_holidays(today.year + 1)}
    candidates = [day for day in window if day in holidays and day.weekday() != 6
                  and day != today and day not in course_days]
    candidates.sort(key=lambda day: day.weekday() not in SERIES_WEEKDAYS)
    if candidates:
        return candidates[0], holidays[candidates[0]]
    day = today - timedelta(days=14)
    while day.weekday() not in SERIES_WEEKDAYS:
        day += timedelta(days=1)
    return day, CLOSURE_LABEL


def _close_a_day(site: Site, staff: dict[str, StaffMember], today: date) -> date:
    day, label = _closure_day(today)
    closures.add(site, first_day=day, last_day=None, label=label, actor=Actor.of(staff["claire"]))
    return day


def _course_days(spec: CourseSpec, today: date) -> list[date]:
    if spec.timing == "ended":  # on the course's weekday, the last one before today
        last = today - timedelta(days=(today.weekday() - spec.weekday - 1) % 7 + 1)
        return [last - timedelta(weeks=3 - i) for i in range(4)]
    upcoming = today + timedelta(days=(spec.weekday - today.weekday() - 1) % 7 + 1)
    return [upcoming + timedelta(weeks=i - 2) for i in range(4)]


def _slots(today: date, closed: date) -> list[Slot]:
    """Every session of the window by start: the weekly timetable (nothing on the closed
    day) and the two courses."""
    slots: list[Slot] = []
    for offset in range(-PAST_DAYS, FUTURE_DAYS + 1):
        day = today + timedelta(days=offset)
        for weekday, start, keys in TIMETABLE:
            if day.weekday() == weekday and day != closed:
                slots.append((day, start, keys[day.isocalendar().week % len(keys)], None, 0))
    for course_spec in COURSES:
        for index, day in enumerate(_course_days(course_spec, today)):
            slots.append((day, course_spec.start, course_spec.workshops[index], course_spec,
                          index))
    return sorted(slots, key=lambda s: (s[0], s[1]))


def _session_form(site: Site, workshop: Workshop, spec: WorkshopSpec, day: date, start: time,
                  animator: StaffMember) -> dict[str, str]:
    """The scheduling form as the animateur fills it (the end follows the workshop's length)."""
    return {"workshop_id": str(workshop.id), "site_id": str(site.id), "room": spec.room,
            "day": day.isoformat(), "start": start.strftime("%H:%M"), "end": "",
            "capacity": str(spec.capacity), "animator_id": str(animator.id), "note": ""}


def _schedule_sessions(site: Site, staff: dict[str, StaffMember],
                       workshops: dict[str, tuple[Workshop, WorkshopSpec]], slots: list[Slot],
                       today: date) -> dict[tuple[date, time], WorkshopSession]:
    """A weekly series for each regular time of the timetable (it skips the closed day), one
    session at a time for the times whose workshop changes week by week and for courses."""
    sessions: dict[tuple[date, time], WorkshopSession] = {}
    last = today + timedelta(days=FUTURE_DAYS)
    for weekday, start, keys in TIMETABLE:
        if len(keys) != 1:
            continue
        workshop, spec = workshops[keys[0]]
        first = today - timedelta(days=PAST_DAYS)
        first += timedelta(days=(weekday - first.weekday()) % 7)
        animator = _animator(staff, spec, first)
        actor = Actor.of(animator)
        form = {**_session_form(site, workshop, spec, first, start, animator),
                "until": last.isoformat()}
        plan, days, until, count = scheduling.read_series(form, [str(weekday)], actor=actor)
        for session in scheduling.create_series(plan, days, actor=actor, until=until,
                                                count=count):
            sessions[session.starts_at.astimezone(PARIS).date(), start] = session
    for day, start, key, _course, _index in slots:
        if (day, start) in sessions:
            continue
        workshop, spec = workshops[key]
        animator = _animator(staff, spec, day)
        sessions[day, start] = scheduling.schedule(
            _session_form(site, workshop, spec, day, start, animator), actor=Actor.of(animator))
    return sessions


def _create_courses(site: Site, staff: dict[str, StaffMember],
                    workshops: dict[str, tuple[Workshop, WorkshopSpec]], slots: list[Slot],
                    sessions: dict[tuple[date, time], WorkshopSession]) -> None:
    """Each course, its four sessions, then its completion rule (a threshold needs the
    sessions first)."""
    for spec in COURSES:
        author = Actor.of(staff["julien"] if spec.key == "fablab" else staff["claire"])
        objectives = [line for key in spec.workshops for line in workshops[key][1].objectives[:2]]
        form = CourseInput(title=spec.title, description=spec.description, site=str(site.id),
                           completion_rule=CompletionRule.ALL_SESSIONS.value,
                           grants_attestation=True, objectives="\n".join(objectives))
        course = course_service.create(form, actor=author)
        for day, start, _key, course_spec, _index in slots:
            if course_spec is spec:
                course_service.add_session(course, sessions[day, start].id, actor=author)
        if spec.rule is not CompletionRule.ALL_SESSIONS:
            form.completion_rule = spec.rule.value
            form.min_sessions = str(spec.min_sessions or "")
            course_service.update(course, form, actor=author)


class BookingMaker:
    """Creates bookings with consistent times, sources, codes and check-ins."""

    def __init__(self, rng: random.Random, at: datetime, staff: dict[str, StaffMember]) -> None:
        self.rng = rng
        self.at = at
        self.reception = staff["sandrine"]
        self.codes: set[str] = set(db.session.scalars(db.select(Booking.code)))
        self.upcoming: Counter[str] = Counter()
        self.activity: dict[str, datetime] = {}

    def new_code(self) -> str:
        while True:
            code = random_code(8)
            if code not in self.codes:
                self.codes.add(code)
                return code

    def touch(self, key: str, when: datetime) -> None:
        self.activity[key] = max(when, self.activity.get(key, when))

    def can_book(self, plan: Planned, key: str, person: Beneficiary) -> bool:
        if person.created_at > plan.session.starts_at - timedelta(days=1):
            return False
        return plan.phase != "future" or self.upcoming[key] < UPCOMING_CAP

    def add(self, plan: Planned, key: str, person: Beneficiary, status: BookingStatus,
            *, position: int | None = None, cancelled_at: datetime | None = None) -> Booking:
        rng, session = self.rng, plan.session
        animator = session.animator
        walk_in = (status is BookingStatus.PRESENT and plan.course is None
                   and rng.random() < 0.12)
        if walk_in:
            source, by = BookingSource.WALK_IN, animator
        elif person.password_hash and rng.random() < 0.7:
            source, by = BookingSource.ONLINE, None
        else:
            source, by = BookingSource.DESK, rng.choice((self.reception, animator))
        latest = min(self.at, session.starts_at) - timedelta(hours=3)
        earliest = min(latest, max(person.created_at, session.starts_at - timedelta(days=21)))
        created = _plausible_time(rng, _between(rng, earliest, latest),
                                  online=source is BookingSource.ONLINE)
        created = max(earliest, min(created, latest))
        booking = Booking(session=session, beneficiary=person, code=self.new_code(),
                          status=status, source=source, waitlist_position=position,
                          created_by_id=by.id if by else None, created_at=created,
                          status_changed_at=created,
                          status_changed_by_id=by.id if by else None)
        if status is BookingStatus.PRESENT:
            checker = self.reception if rng.random() < 0.2 else animator
            when = min(self.at, session.starts_at + timedelta(minutes=rng.uniform(-10, 12)))
            booking.checked_in_at = booking.status_changed_at = when
            booking.checked_in_by = checker
            booking.status_changed_by_id = checker.id if checker else None
            if walk_in:
                booking.created_at = when
        elif status is BookingStatus.EXCUSED:
            booking.status_changed_at = _between(rng, created, session.starts_at)
            booking.status_changed_by_id = self.reception.id
        elif status is BookingStatus.ABSENT:
            booking.status_changed_at = session.closed_at or session.ends_at
            booking.status_changed_by_id = session.closed_by_id
        elif status is BookingStatus.CANCELLED:
            booking.cancelled_at = cancelled_at or _between(rng, created, latest)
            booking.status_changed_at = booking.cancelled_at
        if plan.phase == "future" and status in (BookingStatus.BOOKED, BookingStatus.WAITLISTED):
            self.upcoming[key] += 1
        self.touch(key, min(self.at, booking.checked_in_at or booking.created_at))
        db.session.add(booking)
        plan.bookings.append(booking)
        return booking

    def finish(self, people: dict[str, Beneficiary]) -> None:
        for key, when in self.activity.items():
            person = people[key]
            person.last_activity_at = max(when, person.last_login_at or when)


def _plausible_time(rng: random.Random, when: datetime, *, online: bool) -> datetime:
    """The same day at an hour people book: in the daytime online, opening hours at the desk."""
    hour = rng.randint(8, 21) if online else rng.choice((9, 10, 11, 14, 15, 16, 17))
    return _local(when.astimezone(PARIS).date(), time(hour, rng.randint(0, 59)))


def _attendance(rng: random.Random, phase: str) -> BookingStatus:
    roll = rng.random()
    if phase == "future":
        return BookingStatus.CANCELLED if roll < 0.06 else BookingStatus.BOOKED
    if phase == "live":
        return BookingStatus.PRESENT if roll < 0.7 else BookingStatus.BOOKED
    if roll < 0.78:
        return BookingStatus.PRESENT
    return BookingStatus.EXCUSED if roll < 0.88 else BookingStatus.ABSENT


def _pick(rng: random.Random, keys: Sequence[str], weights: Sequence[float], k: int) -> list[str]:
    """A weighted sample without replacement (Efraimidis–Spirakis)."""
    ranked = sorted(zip(keys, weights, strict=True),
                    key=lambda item: rng.random() ** (1 / item[1]), reverse=True)
    return [key for key, _ in ranked[:k]]


def _fill_sessions(plans: list[Planned], people: dict[str, Beneficiary], book: BookingMaker,
                   rng: random.Random, at: datetime) -> None:
    interests = {spec.key: spec.interests.split() for spec in PEOPLE}

    def candidates(plan: Planned, exclude: Iterable[str] = ()) -> tuple[list[str], list[float]]:
        keys = [k for k, p in people.items() if k not in exclude and book.can_book(plan, k, p)]
        return keys, [5.0 if plan.spec.interest in interests[k] else 1.0 for k in keys]

    # Courses first: the same group at every session.
    for plan in (p for p in plans if p.course):
        assert plan.course is not None
        for key in plan.course.members:
            status = plan.course.exceptions.get((plan.index, key))
            if plan.phase == "future":
                status = BookingStatus.BOOKED
            elif status is None:
                status = _attendance(rng, "live") if plan.phase == "live" else \
                    BookingStatus.PRESENT
            book.add(plan, key, people[key], status)

    generic = [p for p in plans if not p.course]
    future = [p for p in generic if p.phase == "future"]
    full = next(p for p in future if p.spec.key == "badges")
    cancelled_future = next(p for p in future if p.spec.key == "cv")
    cancelled_past = next(p for p in generic if p.phase == "past" and p.session.starts_at.weekday()
                          == 1)

    # A full session with three people waiting.
    keys, weights = candidates(full)
    chosen = _pick(rng, keys, weights, full.session.capacity + 3)
    for key in chosen[: full.session.capacity]:
        book.add(full, key, people[key], BookingStatus.BOOKED)
    last_booked = max(b.created_at for b in full.bookings)
    for position, key in enumerate(chosen[full.session.capacity :], start=1):
        waiting = book.add(full, key, people[key], BookingStatus.WAITLISTED, position=position)
        waiting.created_at = waiting.status_changed_at = max(waiting.created_at, last_booked)

    # Two cancelled sessions: one next week, one last month. Their people booked; the
    # sessions are cancelled through the service at the end (``_cancel_sessions``).
    for plan, reason, when in (
        (cancelled_future, "Animatrice en formation ce jour-là. Séance reportée à la semaine "
         "suivante.", at - timedelta(hours=2)),
        (cancelled_past, "Coupure d'électricité dans le bâtiment.",
         cancelled_past.session.starts_at - timedelta(hours=2)),
    ):
        plan.cancel = (reason, when)
        plan.session.status = SessionStatus.SCHEDULED  # it was called off before it was over
        plan.session.closed_at = plan.session.closed_by_id = None
        keys, weights = candidates(plan)
        for key in _pick(rng, keys, weights, rng.randint(3, 5)):
            book.add(plan, key, people[key], BookingStatus.BOOKED)

    # Every other session: fuller in the past and the coming days than further ahead.
    for plan in generic:
        if plan.bookings:
            continue
        capacity = plan.session.capacity
        days_ahead = (plan.session.starts_at - at).days
        if plan.phase != "future":
            k = rng.randint(capacity // 2, capacity)
        elif days_ahead < 7:  # seats are left for the visitors of the demonstration
            k = rng.randint(capacity // 3, capacity // 2 + 1)
        else:
            k = rng.randint(1, capacity // 3) if days_ahead < 14 else rng.randint(0, 2)
        keys, weights = candidates(plan)
        for key in _pick(rng, keys, weights, k):
            book.add(plan, key, people[key], _attendance(rng, plan.phase))

    for plan in plans:
        plan.session.seats_taken = sum(b.status in SEAT_HOLDING for b in plan.bookings)


def _expect_martine_today(plans: list[Planned], people: dict[str, Beneficiary],
                          book: BookingMaker) -> None:
    """Martine is booked, not yet checked in, on today's last session: scanning her card
    (MAR-762) on the check-in screen shows what a check-in looks like."""
    day = book.at.astimezone(PARIS).date()
    today = [p for p in plans if p.course is None and p.cancel is None
             and p.session.status is SessionStatus.SCHEDULED
             and p.session.starts_at.astimezone(PARIS).date() == day]
    if not today:
        return
    plan = today[-1]
    session = plan.session
    _drop_kevin(plan, people)
    mine = next((b for b in plan.bookings if b.beneficiary is people["martine"]), None)
    if mine is None or mine.status not in SEAT_HOLDING:
        _free_a_seat(plan, people, book)
    if mine is None:
        book.add(plan, "martine", people["martine"], BookingStatus.BOOKED)
    else:
        mine.status = BookingStatus.BOOKED
        mine.checked_in_at = mine.cancelled_at = mine.waitlist_position = None
        mine.checked_in_by = None
        mine.status_changed_at = mine.created_at
        if mine.source is BookingSource.WALK_IN:
            mine.source = BookingSource.DESK
    # Kévin (KEV-348) is not on the session and a seat is free there, so that scanning his
    # card shows a walk-in (blue) that can be added, as the README says.
    _free_a_seat(plan, people, book)
    session.seats_taken = sum(b.status in SEAT_HOLDING for b in plan.bookings)


def _drop_kevin(plan: Planned, people: dict[str, Beneficiary]) -> None:
    kevin = people["kevin"]
    for booking in [b for b in plan.bookings if b.beneficiary is kevin]:
        plan.bookings.remove(booking)
        db.session.expunge(booking)


def _free_a_seat(plan: Planned, people: dict[str, Beneficiary], book: BookingMaker) -> None:
    """When the session is full, someone booked (not yet here, and not Martine) cancelled
    yesterday evening; when everyone is already here, one more seat was added."""
    holding = [b for b in plan.bookings if b.status in SEAT_HOLDING]
    if len(holding) < plan.session.capacity:
        return
    late = [b for b in holding if b.status is BookingStatus.BOOKED
            and b.beneficiary is not people["martine"]]
    if not late:
        plan.session.capacity = len(holding) + 1
        return
    cancelled = late[-1]
    cancelled.status = BookingStatus.CANCELLED
    cancelled.cancelled_at = cancelled.status_changed_at = max(
        cancelled.created_at, _local(book.at.astimezone(PARIS).date() - timedelta(days=1),
                                     time(19, 0)))


def _cancel_sessions(plans: list[Planned]) -> None:
    """Sessions called off by their animateur, at the moment they were: everyone booked is
    cancelled and told through the outbox (``scheduling.cancel``)."""
    for plan in (p for p in plans if p.cancel):
        assert plan.cancel is not None
        reason, when = plan.cancel
        animator = db.session.get(StaffMember, plan.session.animator_id)
        with clock.set_to(when):
            scheduling.cancel(plan.session, reason, actor=Actor.of(animator))


def _create_accompaniments(site: Site, staff: dict[str, StaffMember],
                           people: dict[str, Beneficiary], book: BookingMaker,
                           at: datetime) -> None:
    today = at.astimezone(PARIS).date()
    for spec in ACCOMPANIMENTS:
        started = _local(today - timedelta(days=spec.days_ago), spec.start)
        person = people[spec.person] if spec.person else None
        if spec.person and person:
            started = max(started, person.created_at)
            book.touch(spec.person, started + timedelta(minutes=spec.minutes))
        accompaniment = Accompaniment(
            site=site, staff=staff[spec.staff], beneficiary=person, started_at=started,
            duration_minutes=spec.minutes, place_type=spec.place, equipment=spec.equipment,
            autonomy=spec.autonomy, summary=spec.summary, created_at=started,
        )
        accompaniment.theme_links = [AccompanimentTheme(theme=t) for t in spec.themes]
        accompaniment.subtheme_links = [AccompanimentSubtheme(subtheme=s) for s in spec.subthemes]
        db.session.add(accompaniment)


def _create_cheques(site: Site, plans: list[Planned], rng: random.Random,
                    at: datetime) -> list[Cheque]:
    """Booklets of five cheques; about half of them paid past workshops their owner attended."""
    programme = ChequeProgramme(**PROGRAMME_FIELDS)
    db.session.add(programme)
    paid: dict[int, list[Booking]] = defaultdict(list)
    for plan in plans:
        if plan.phase == "past" and plan.spec.price:
            for booking in plan.bookings:
                if booking.status is BookingStatus.PRESENT:
                    paid[booking.beneficiary_id].append(booking)
    owners = sorted(paid, key=lambda person_id: (-len(paid[person_id]), person_id))[:BOOKLETS]
    cheques: list[Cheque] = []
    for booklet in range(1, BOOKLETS + 1):
        numbers = [cheque_number(booklet, i) for i in range(1, CHEQUES_PER_BOOKLET + 1)]
        budget = rng.randint(2, 3)
        bookings = paid[owners[booklet - 1]] if booklet <= len(owners) else []
        for booking in bookings:
            price = booking.session.workshop.price_cheques
            if price > min(budget, len(numbers)):
                break
            budget -= price
            taken = min(at, (booking.checked_in_at or booking.session.starts_at)
                        + timedelta(minutes=2))
            for _ in range(price):
                cheques.append(Cheque(
                    programme=programme, number=numbers.pop(0), value_cents=1000,
                    registered_at=taken, redeemed_at=taken,
                    redeemed_by_id=booking.checked_in_by_id, site_id=site.id,
                    booking_id=booking.id,
                ))
        registered = at - timedelta(days=rng.randint(2, 25))
        cheques.extend(Cheque(programme=programme, number=number, value_cents=1000,
                              registered_at=registered) for number in numbers)
    db.session.add_all(cheques)
    return cheques


# --- printing the logins ------------------------------------------------------------------


def print_accounts(echo: Callable[[str], None], address: str) -> None:
    """Print, in French, the demonstration logins and where to open the portal (``address``)."""
    echo("")
    echo(f"Démonstration : {SITE_FIELDS['name']} ({SITE_CODE})")
    echo(f"Ouvrez {address} puis « Se connecter ».")
    echo("")
    echo("Équipe (identifiant : l'adresse e-mail)")
    for account in (a for a in DEMO_ACCOUNTS if a.is_staff):
        echo(f"  {account.label:<26} {account.identifier:<32} "
             f"mot de passe : {account.secret}")
    echo("")
    echo("Bénéficiaires (identifiant : le code de la carte d'accès)")
    for account in (a for a in DEMO_ACCOUNTS if not a.is_staff):
        kind = "code de première connexion" if account.first_login else "mot de passe"
        echo(f"  {account.name} – {account.label.lower()}")
        echo(f"    identifiant : {account.shown_identifier}   {kind} : {account.shown_secret}")
    echo("")
    echo("Les autres bénéficiaires qui ont déjà un mot de passe utilisent celui de Martine.")
