"""Every screen, anonymous and logged in, at 320 px and 1280 px: axe-core finds nothing, the W3C
validator finds nothing, the page does not scroll sideways at 320 px, text at 200 % still fits,
and the browser reports no console error, CSP violation or failed resource."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import (
    ANONYMOUS,
    BENEFICIARY,
    DESKTOP,
    EMPTY_BENEFICIARY,
    FIRST_LOGIN,
    NARROW,
    NETWORK_ADMIN,
    STAFF,
    Accounts,
    LiveServer,
    assert_no_browser_problems,
    check_axe,
    check_reflow,
    html_report,
    submit,
    validate_html,
)
from tests.browser.names import action

pytestmark = pytest.mark.browser

Reach = Callable[[Page, Accounts], Response | None]


def _go(path: str) -> Reach:
    return lambda page, _seeded: page.goto(path)


def _empty_login(page: Page, _seeded: Accounts) -> Response:
    page.goto("/connexion")
    return submit(page, "Se connecter")


def _refused_login(page: Page, _seeded: Accounts) -> Response:
    page.goto("/connexion")
    page.get_by_label("Identifiant ou adresse e-mail").fill("ZZZ-ZZZ")
    page.get_by_label("Mot de passe", exact=True).fill("ce n'est pas le bon")
    return submit(page, "Se connecter")


def _expired_form(page: Page, seeded: Accounts) -> Response:
    """The form was loaded, then the browser lost its cookie: the CSRF check refuses the post."""
    page.goto("/connexion")
    page.context.clear_cookies()
    page.get_by_label("Identifiant ou adresse e-mail").fill(seeded.beneficiary_card_id)
    page.get_by_label("Mot de passe", exact=True).fill(seeded.password)
    return submit(page, "Se connecter")


def _in_english(page: Page, _seeded: Accounts) -> Response:
    page.goto("/")
    return submit(page, "English")


def _wrong_current_password(page: Page, _seeded: Accounts) -> Response:
    page.goto("/mot-de-passe")
    page.get_by_label("Mot de passe actuel").fill("ce n'est pas le bon")
    page.get_by_label("Nouveau mot de passe").fill("les mouettes volent sur le port")
    page.get_by_label("Écrivez-le une deuxième fois").fill("les mouettes volent sur le port")
    return submit(page, "Changer le mot de passe")


def _refused_profile(page: Page, _seeded: Accounts) -> Response:
    page.goto("/mon-espace/profil")
    page.get_by_label("Téléphone", exact=True).fill("pas un numéro")
    page.get_by_label("Code postal").fill("6221")
    return submit(page, "Enregistrer")


def _refused_first_login(page: Page, _seeded: Accounts) -> Response:
    page.goto("/premiere-connexion")
    page.get_by_label("Nouveau mot de passe").fill("court")
    return submit(page, "Enregistrer mon mot de passe")


def _session(attribute: str) -> Reach:
    """The beneficiary's page of one of the seeded sessions (``Accounts.<attribute>``)."""
    return lambda page, seeded: page.goto(f"/mon-espace/seances/{getattr(seeded, attribute)}")


def _calendar_link_created(page: Page, _seeded: Accounts) -> Response:
    """The profile as answered to "create my calendar link": the link shown once."""
    page.goto("/mon-espace/profil")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=re.compile("^Créer (mon|un nouveau) lien")).click()
    response = navigation.value
    assert response is not None
    expect(page.get_by_label("Lien d'agenda")).to_have_value(re.compile(r"/agenda/.+\.ics$"))
    return response


def _follow(path: str, link: str | re.Pattern[str]) -> Reach:
    """The page a link of ``path`` leads to, opened as a plain navigation."""

    def reach(page: Page, _seeded: Accounts) -> Response | None:
        page.goto(path)
        href = page.get_by_role("link", name=link).first.get_attribute("href")
        assert href, f"no link {link!r} on {path}"
        return page.goto(href)

    return reach


def _cancel_question_on_session(page: Page, seeded: Accounts) -> Response | None:
    return _follow(f"/mon-espace/seances/{seeded.booked_session_id}",
                   "Annuler mon inscription")(page, seeded)


def _staff_session(attribute: str, screen: str) -> Reach:
    """A staff screen (``pointage``, ``cloture``) of a seeded session (``Accounts.<attribute>``).
    None of the seeded sessions is today's: the check-in screens of an open session, with
    results, are checked in test_checkin_journeys.py on that module's own data."""
    return lambda page, seeded: page.goto(
        f"/equipe/seances/{getattr(seeded, attribute)}/{screen}".rstrip("/"))


def _refused_schedule(page: Page, _seeded: Accounts) -> Response:
    page.goto("/equipe/seances/nouvelle")
    page.get_by_label("Salle").fill("Salle bleue")
    return submit(page, "Programmer")


def _series_preview(page: Page, _seeded: Accounts) -> Response:
    """A weekly series of the seeded site, on Tuesdays for four weeks: its preview."""
    page.goto("/equipe/seances/nouvelle")
    page.get_by_label("Atelier").select_option(index=1)
    page.get_by_label("Date").fill("2027-01-05")
    page.get_by_label("Début").fill("14:00")
    page.get_by_label("Salle").fill("Salle des séries")
    page.get_by_label("Nombre de places").fill("8")
    page.get_by_label("Chaque semaine (une série)").check()
    page.get_by_label("mardi").check()
    page.get_by_label("Nombre de séances").fill("4")
    return submit(page, "Programmer")


def _programme_refused(page: Page, _seeded: Accounts) -> Response:
    """A month without any session: the printed programme is refused on the month's page."""
    page.goto("/equipe/programme/mois")
    page.get_by_label("Mois", exact=True).fill("2031-01")
    return submit(page, "Télécharger le programme (PDF)")


def _convocations_refused(page: Page, _seeded: Accounts) -> Response:
    """A day nobody is booked on: no PDF, a plain message at the day's field."""
    page.goto("/equipe/convocations?jour=2031-01-07")
    return submit(page, "Imprimer les convocations (PDF)")

_WORKSHOP_TEXT = "Premier paragraphe.\n\nOn verra :\n- l'écran\n- les boutons"


def _workshop_preview(page: Page, _seeded: Accounts) -> Response:
    """The new workshop's form as the "Aperçu" button answers it (no JavaScript needed)."""
    page.goto("/equipe/catalogue/ateliers/nouveau")
    page.get_by_label("Titre").fill("Mon atelier")
    page.get_by_label("Description").fill(_WORKSHOP_TEXT)
    return submit(page, "Aperçu")


def _refused_workshop(page: Page, _seeded: Accounts) -> Response:
    page.goto("/equipe/catalogue/ateliers/nouveau")
    page.get_by_label("Description").fill(_WORKSHOP_TEXT)
    page.get_by_label("Prix en chèques APTIC").fill("40")
    return submit(page, "Enregistrer l'atelier")


def _refused_person(page: Page, _seeded: Accounts) -> Response:
    page.goto("/equipe/beneficiaires/nouveau")
    page.get_by_label("Prénom (obligatoire)").fill("Léa")
    page.get_by_label("Code postal").fill("626")
    page.get_by_label("Année de naissance").fill("1850")
    return submit(page, "Enregistrer la personne")


def _person_duplicates(page: Page, _seeded: Accounts) -> Response:
    """A seeded person typed again, misspelt: the duplicate step (nothing saved)."""
    page.goto("/equipe/beneficiaires/nouveau")
    page.get_by_label("Prénom (obligatoire)").fill("Nadia")
    page.get_by_label("Nom", exact=True).fill("Benaly")
    return submit(page, "Enregistrer la personne")


def _person_screen(tail: str) -> Reach:
    return lambda page, seeded: page.goto(
        f"/equipe/beneficiaires/{seeded.beneficiary_id}/{tail}")


def _merge_compare(page: Page, seeded: Accounts) -> Response | None:
    return _follow(f"/equipe/beneficiaires/{seeded.beneficiary_id}/fusionner?q=Durand",
                   re.compile("^Comparer"))(page, seeded)


@dataclass(frozen=True)
class Screen:
    name: str
    role: str
    reach: Reach
    heading: str
    status: int = 200
    lang: str = "fr"
    tags: frozenset[str] = field(default_factory=frozenset)

    def open(self, page: Page, seeded: Accounts) -> Response:
        response = self.reach(page, seeded)
        assert response is not None
        assert response.status == self.status, f"{self.name}: {response.status} {page.url}"
        expect(page.locator("h1")).to_contain_text(self.heading)
        assert page.locator("html").get_attribute("lang") == self.lang
        page.wait_for_load_state("load")
        page.evaluate("document.fonts.ready.then(() => true)")
        return response


ZOOM = frozenset({"zoom"})

SCREENS = [
    Screen("accueil", ANONYMOUS, _go("/"), "Le numérique, pas à pas", tags=ZOOM),
    Screen("accueil-en-anglais", ANONYMOUS, _in_english, "step by step", lang="en"),
    Screen("connexion", ANONYMOUS, _go("/connexion"), "Se connecter"),
    Screen("connexion-champs-vides", ANONYMOUS, _empty_login, "Se connecter", 422, tags=ZOOM),
    Screen("connexion-refusee", ANONYMOUS, _refused_login, "Se connecter", 401),
    Screen("deconnecte", ANONYMOUS, _go("/connexion?fin=deconnexion"), "Se connecter"),
    Screen("accessibilite", ANONYMOUS, _go("/accessibilite"), "Déclaration d'accessibilité"),
    Screen("donnees-personnelles", ANONYMOUS, _go("/donnees-personnelles"),
           "Vos données personnelles"),
    Screen("introuvable", ANONYMOUS, _go("/cette-page-n-existe-pas"), "Page introuvable", 404),
    Screen("formulaire-expire", ANONYMOUS, _expired_form, "La demande n'a pas pu être lue", 400),
    Screen("premiere-connexion", FIRST_LOGIN, _go("/premiere-connexion"),
           "Choisir mon mot de passe", tags=ZOOM),
    Screen("premiere-connexion-refusee", FIRST_LOGIN, _refused_first_login,
           "Choisir mon mot de passe", 422, tags=ZOOM),
    Screen("mon-espace", BENEFICIARY, _go("/mon-espace/"), "Bonjour Nadia", tags=ZOOM),
    Screen("trouver-un-atelier", BENEFICIARY, _go("/mon-espace/ateliers"), "Trouver un atelier",
           tags=ZOOM),
    Screen("recherche-sans-resultat", BENEFICIARY, _go("/mon-espace/ateliers?q=zzzzzz"),
           "Trouver un atelier"),
    Screen("recherche-filtres-impossibles", BENEFICIARY,
           _go("/mon-espace/ateliers?site=%C2%B2&semaine=9999-12-31&niveau=x"),
           "Trouver un atelier"),
    Screen("mon-espace-annuler-question", BENEFICIARY,
           _follow("/mon-espace/", action("Annuler", "Premiers pas", whole=False)), "Bonjour Nadia",
           tags=ZOOM),
    Screen("seance-annuler-question", BENEFICIARY, _cancel_question_on_session,
           "Premiers pas sur l'ordinateur", tags=ZOOM),
    Screen("seance-avec-places", BENEFICIARY,
           lambda page, seeded: page.goto(f"/mon-espace/seances/{seeded.open_session_id}"),
           "Bien utiliser son smartphone", tags=ZOOM),
    Screen("seance-reservee", BENEFICIARY,
           lambda page, seeded: page.goto(f"/mon-espace/seances/{seeded.booked_session_id}"),
           "Premiers pas sur l'ordinateur"),
    Screen("seance-liste-d-attente", BENEFICIARY,
           lambda page, seeded: page.goto(f"/mon-espace/seances/{seeded.waitlisted_session_id}"),
           "Fab Lab : découvrir l'imprimante 3D"),
    Screen("seance-complete", BENEFICIARY, _session("full_session_id"),
           "Ranger et partager ses photos"),
    Screen("seance-annulee", BENEFICIARY, _session("cancelled_session_id"),
           "Découvrir la tablette tactile"),
    Screen("parcours", BENEFICIARY,
           lambda page, seeded: page.goto(f"/mon-espace/parcours/{seeded.course_id}"),
           "Parcours : mes démarches en ligne"),
    Screen("mes-documents", BENEFICIARY, _go("/mon-espace/documents"), "Mes documents"),
    Screen("mon-profil", BENEFICIARY, _go("/mon-espace/profil"), "Mon profil", tags=ZOOM),
    Screen("mon-profil-refuse", BENEFICIARY, _refused_profile, "Mon profil", 422, tags=ZOOM),
    Screen("profil-lien-agenda-cree", BENEFICIARY, _calendar_link_created, "Mon profil",
           tags=ZOOM),
    Screen("mon-espace-vide", EMPTY_BENEFICIARY, _go("/mon-espace/"), "Bonjour Henri"),
    Screen("mes-documents-vide", EMPTY_BENEFICIARY, _go("/mon-espace/documents"),
           "Mes documents"),
    Screen("mot-de-passe", BENEFICIARY, _go("/mot-de-passe"), "Changer mon mot de passe"),
    Screen("mot-de-passe-refuse", BENEFICIARY, _wrong_current_password,
           "Changer mon mot de passe", 422),
    Screen("accueil-beneficiaire", BENEFICIARY, _go("/"), "Le numérique, pas à pas"),
    Screen("accessibilite-beneficiaire", BENEFICIARY, _go("/accessibilite"),
           "Déclaration d'accessibilité"),
    Screen("introuvable-beneficiaire", BENEFICIARY, _go("/mon-espace/rien"), "Page introuvable",
           404),
    Screen("acces-refuse-beneficiaire", BENEFICIARY, _go("/equipe/"), "Accès refusé", 403),
    Screen("equipe", STAFF, _go("/equipe/"), "Séances des 7 prochains jours", tags=ZOOM),
    Screen("beneficiaires", STAFF, _go("/equipe/beneficiaires"), "Bénéficiaires", tags=ZOOM),
    Screen("beneficiaires-recherche", STAFF, _go("/equipe/beneficiaires?q=Benali"),
           "Bénéficiaires"),
    Screen("beneficiaires-sans-resultat", STAFF, _go("/equipe/beneficiaires?q=zzzzzz"),
           "Bénéficiaires"),
    Screen("fiche-beneficiaire", STAFF,
           lambda page, seeded: page.goto(f"/equipe/beneficiaires/{seeded.beneficiary_id}"),
           "Nadia Benali", tags=ZOOM),
    Screen("documents-equipe", STAFF, _go("/equipe/documents"), "Documents délivrés"),
    Screen("verifier-document", ANONYMOUS, _go("/verifier"), "Vérifier un document"),
    Screen("verifier-code-inconnu", ANONYMOUS, _go("/v/ZZZZZZZZZZZZ"), "Vérifier un document",
           404),
    Screen("mot-de-passe-equipe", STAFF, _go("/mot-de-passe"), "Changer mon mot de passe"),
    Screen("donnees-personnelles-equipe", STAFF, _go("/donnees-personnelles"),
           "Vos données personnelles"),
    Screen("acces-refuse-equipe", STAFF, _go("/mon-espace/"), "Accès refusé", 403),
    Screen("pointage-pas-aujourd-hui", STAFF, _staff_session("booked_session_id", "pointage"),
           "Pointage : Premiers pas sur l'ordinateur", tags=ZOOM),
    Screen("pointage-liste-vide", STAFF, _staff_session("open_session_id", "pointage"),
           "Pointage : Bien utiliser son smartphone"),
    Screen("cloture-a-confirmer", STAFF, _staff_session("booked_session_id", "cloture"),
           "Clôturer la séance : Premiers pas sur l'ordinateur"),
    Screen("programme-semaine", STAFF, _go("/equipe/programme"), "Programme de la semaine",
           tags=ZOOM),
    Screen("programme-mois", STAFF, _go("/equipe/programme/mois"), "Programme de"),
    Screen("programme-impression-refusee", STAFF, _programme_refused, "Programme de", 422),
    Screen("convocations", STAFF, _go("/equipe/convocations"), "Convocations du", tags=ZOOM),
    Screen("convocations-jour-vide", STAFF, _convocations_refused, "Convocations du", 422),
    Screen("programmer-une-seance", STAFF, _go("/equipe/seances/nouvelle"),
           "Programmer une séance", tags=ZOOM),
    Screen("programmer-refuse", STAFF, _refused_schedule, "Programmer une séance", 422),
    Screen("serie-apercu", STAFF, _series_preview, "Vérifier la série", tags=ZOOM),
    Screen("seance-equipe", STAFF, _staff_session("booked_session_id", ""),
           "Séance : Premiers pas sur l'ordinateur"),
    Screen("seance-annulee-equipe", STAFF, _staff_session("cancelled_session_id", ""),
           "Séance :"),
    Screen("modifier-seance", STAFF, _staff_session("booked_session_id", "modifier"),
           "Modifier la séance : Premiers pas sur l'ordinateur"),
    Screen("dupliquer-seance", STAFF, _staff_session("booked_session_id", "dupliquer"),
           "Dupliquer la séance : Premiers pas sur l'ordinateur"),
    Screen("annuler-seance", STAFF, _staff_session("booked_session_id", "annuler"),
           "Annuler la séance : Premiers pas sur l'ordinateur"),
    Screen("jours-de-fermeture", STAFF,
           _follow("/equipe/seances/nouvelle", re.compile("^Jours de fermeture")),
           "Jours de fermeture"),
]
SCREENS += [
    Screen("catalogue", STAFF, _go("/equipe/catalogue"), "Catalogue des ateliers", tags=ZOOM),
    Screen("catalogue-archives", STAFF, _go("/equipe/catalogue?etat=archives&q=zzz"),
           "Catalogue des ateliers"),
    Screen("atelier-nouveau", STAFF, _go("/equipe/catalogue/ateliers/nouveau"),
           "Créer un atelier", tags=ZOOM),
    Screen("atelier-apercu-sans-js", STAFF, _workshop_preview, "Créer un atelier", tags=ZOOM),
    Screen("atelier-refuse", STAFF, _refused_workshop, "Créer un atelier", 422, tags=ZOOM),
    Screen("atelier-du-reseau", STAFF,
           _follow("/equipe/catalogue", "Premiers pas sur l'ordinateur"),
           "Premiers pas sur l'ordinateur"),
    Screen("parcours-equipe", STAFF, _go("/equipe/catalogue/parcours"), "Parcours"),
    Screen("parcours-nouveau", STAFF, _go("/equipe/catalogue/parcours/nouveau"),
           "Créer un parcours"),
    Screen("parcours-modifier", STAFF,
           _follow("/equipe/catalogue/parcours", "Parcours : mes démarches en ligne"),
           "Parcours : mes démarches en ligne", tags=ZOOM),
]


def _refused_help(page: Page, _seeded: Accounts) -> Response:
    """Individual help without a theme and with an impossible duration: refused, 422."""
    page.goto("/equipe/accompagnements/nouveau")
    page.get_by_label("Autre durée", exact=True).check()
    page.get_by_label("Autre durée, en minutes").fill("2000")
    return submit(page, "Enregistrer l'accompagnement")


def _recorded_help(page: Page, _seeded: Accounts) -> Response:
    """The page of an individual help just recorded (its cheques, its receipt)."""
    page.goto("/equipe/accompagnements/nouveau")
    page.get_by_label("E-mail", exact=True).check()
    return submit(page, "Enregistrer l'accompagnement")


def _help_remove_question(page: Page, seeded: Accounts) -> Response | None:
    _recorded_help(page, seeded)
    href = page.get_by_role("link", name="Supprimer", exact=True).get_attribute("href")
    assert href
    return page.goto(href)


SCREENS += [
    Screen("accompagnements", STAFF, _go("/equipe/accompagnements?theme=email&lieu=on_site"),
           "Accompagnements individuels", tags=ZOOM),
    Screen("accompagnement-nouveau", STAFF, _go("/equipe/accompagnements/nouveau"),
           "Noter un accompagnement", tags=ZOOM),
    Screen("accompagnement-refuse", STAFF, _refused_help, "Noter un accompagnement", 422,
           tags=ZOOM),
    Screen("accompagnement-note", STAFF, _recorded_help, "Accompagnement du", tags=ZOOM),
    Screen("accompagnement-supprimer", STAFF, _help_remove_question,
           "Supprimer un accompagnement"),
]


def _refused_site_settings(page: Page, _seeded: Accounts) -> Response:
    _follow("/equipe/lieux", "Cyberbase de Méricourt")(page, _seeded)
    page.get_by_label("Déconnexion après inactivité, en minutes").fill("500")
    page.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    return submit(page, "Enregistrer les réglages")


def _programme_form(pattern: str, sample: str, button: str) -> Reach:
    def reach(page: Page, _seeded: Accounts) -> Response:
        page.goto("/equipe/cheques/nouveau")
        page.get_by_label("Nom du dispositif").fill("Pass Numérique 2028")
        page.get_by_label("Financeur (qui achète les chèques)").fill("Région")
        page.get_by_label("Modèle de numéro (expression régulière)").fill(pattern)
        page.get_by_label("Essayer un numéro").fill(sample)
        return submit(page, button)

    return reach


SCREENS += [
    Screen("lieux", NETWORK_ADMIN, _go("/equipe/lieux"), "Lieux"),
    Screen("lieux-sans-administration", STAFF, _go("/equipe/lieux"), "Lieux"),
    Screen("reglages-lieu", NETWORK_ADMIN, _follow("/equipe/lieux", "Cyberbase de Méricourt"),
           "Réglages : Cyberbase de Méricourt", tags=ZOOM),
    Screen("reglages-lieu-refuses", NETWORK_ADMIN, _refused_site_settings,
           "Réglages : Cyberbase de Méricourt", 422, tags=ZOOM),
    Screen("dispositifs-cheques", NETWORK_ADMIN, _go("/equipe/cheques"),
           "Dispositifs de chèques"),
    Screen("dispositif-nouveau", NETWORK_ADMIN, _go("/equipe/cheques/nouveau"),
           "Créer un dispositif", tags=ZOOM),
    Screen("dispositif-tester-sans-js", NETWORK_ADMIN,
           _programme_form("[0-9]{10}", "62 072 611 00", "Tester"), "Créer un dispositif"),
    Screen("dispositif-refuse", NETWORK_ADMIN,
           _programme_form("(a+)+", "aaa", "Enregistrer le dispositif"),
           "Créer un dispositif", 422, tags=ZOOM),
    Screen("dispositif-cheques", NETWORK_ADMIN,
           _follow("/equipe/cheques", "Pass Numérique Pas-de-Calais 2027"),
           "Pass Numérique Pas-de-Calais 2027"),
]

SCREENS += [
    Screen("personne-nouvelle", STAFF, _go("/equipe/beneficiaires/nouveau"),
           "Nouvelle personne", tags=ZOOM),
    Screen("personne-refusee", STAFF, _refused_person, "Nouvelle personne", 422, tags=ZOOM),
    Screen("personne-doublons", STAFF, _person_duplicates, "Nouvelle personne", tags=ZOOM),
    Screen("personne-modifier", STAFF, _person_screen("modifier"),
           "Modifier la fiche de Nadia Benali", tags=ZOOM),
    Screen("personne-fusion-recherche", STAFF, _person_screen("fusionner?q=Durand"),
           "Fusionner avec une autre fiche"),
    Screen("personne-fusion-comparer", STAFF, _merge_compare, "Fusionner avec une autre fiche",
           tags=ZOOM),
]

# The team (issue 11): what an animateur sees of it, their own account, the public invitation
# pages; the administrator's screens are checked along tests/browser/test_team_journeys.py.
SCREENS += [
    Screen("equipe", STAFF, _go("/equipe/equipe"), "L'équipe"),
    Screen("mon-compte", STAFF, _go("/equipe/compte/"), "Mon compte", tags=ZOOM),
    Screen("invitation-code", ANONYMOUS, _go("/invitation"), "Invitation", tags=ZOOM),
    Screen("invitation-inconnue", ANONYMOUS, _go("/invitation/lien-inconnu"),
           "Rejoindre l'équipe", 404),
]


def _invitation_ready(page: Page, _seeded: Accounts) -> Response:
    page.goto("/equipe/equipe/inviter")
    page.get_by_label("Prénom et nom").fill("Inès Nouvelle")
    page.get_by_label("Adresse e-mail").fill("ines.nouvelle@example.org")
    page.get_by_label("Lieu", exact=True).select_option(label="Cyberbase de Méricourt")
    page.get_by_label("Accueil", exact=True).check()
    return submit(page, "Créer l'invitation")


def _then(first: Reach, link: str) -> Reach:
    """The page a link of the page ``first`` reaches leads to."""

    def reach(page: Page, seeded: Accounts) -> Response | None:
        first(page, seeded)
        href = page.get_by_role("link", name=link, exact=True).first.get_attribute("href")
        assert href, f"no link {link!r}"
        return page.goto(href)

    return reach


# The administrators' screens of issue 11 (team, journal, editing forms), at 320 px and desktop.
SCREENS += [
    Screen("equipe-administration", NETWORK_ADMIN, _go("/equipe/equipe"), "L'équipe",
           tags=ZOOM),
    Screen("equipe-inviter", NETWORK_ADMIN, _go("/equipe/equipe/inviter"),
           "Inviter un ou une collègue", tags=ZOOM),
    Screen("equipe-invitation-prete", NETWORK_ADMIN, _invitation_ready, "Invitation prête"),
    Screen("equipe-collegue", NETWORK_ADMIN, _follow("/equipe/equipe", "Camille Martin"),
           "Camille Martin", tags=ZOOM),
    Screen("journal", NETWORK_ADMIN, _go("/equipe/journal"), "Journal des actions", tags=ZOOM),
    Screen("lieu-nouveau", NETWORK_ADMIN, _go("/equipe/lieux/nouveau"), "Créer un lieu",
           tags=ZOOM),
    Screen("accompagnement-modifier", STAFF, _then(_recorded_help, "Modifier"),
           "Modifier un accompagnement"),
    Screen("dispositif-modifier", NETWORK_ADMIN,
           _then(_follow("/equipe/cheques", "Pass Numérique Pas-de-Calais 2027"),
                 "Modifier le dispositif"), "Modifier le dispositif"),
]

# The network view of issue 12 (network administrators only).
SCREENS += [
    Screen("reseau", NETWORK_ADMIN, _go("/equipe/reseau"), "Vue du réseau", tags=ZOOM),
]

# Exports (issue 12): the form, a file ready to download, a refused period; the network's.
SCREENS += [
    Screen("exports", STAFF, _go("/equipe/rapports/exports"), "Exports", tags=ZOOM),
    Screen("exports-pret", STAFF,
           _go("/equipe/rapports/exports?quoi=presences&format=xlsx&periode=annee&annee=2026"),
           "Exports", tags=ZOOM),
    Screen("exports-refuse", STAFF,
           _go("/equipe/rapports/exports?quoi=presences&periode=mois&mois=2026-13"),
           "Exports", 422, tags=ZOOM),
    Screen("exports-reseau", NETWORK_ADMIN,
           _go("/equipe/rapports/exports?quoi=activites&site=reseau&periode=trimestre"
               "&trimestre=2026-4"), "Exports"),
]


# Personal data (issue 12): the anonymisation confirmation, and sent without confirmation.
def _refused_anonymise(page: Page, seeded: Accounts) -> Response:
    page.goto(f"/equipe/beneficiaires/{seeded.beneficiary_id}/anonymiser")
    return submit(page, "Anonymiser définitivement")


SCREENS += [
    Screen("personne-anonymiser", NETWORK_ADMIN, _person_screen("anonymiser"),
           "Anonymiser la fiche de Nadia Benali", tags=ZOOM),
    Screen("personne-anonymiser-refuse", NETWORK_ADMIN, _refused_anonymise,
           "Anonymiser la fiche de Nadia Benali", 422, tags=ZOOM),
]

BY_NAME = {screen.name: screen for screen in SCREENS}


def _name(screen: Screen) -> str:
    return screen.name


@pytest.mark.parametrize("viewport", [NARROW, DESKTOP], ids=["320px", "1280px"])
@pytest.mark.parametrize("screen", SCREENS, ids=_name)
def test_screen_passes_axe_and_reflows(screen: Screen, viewport: Mapping[str, int],
                                       open_page: Callable[..., Page],
                                       storage_state: Callable[[str], Any],
                                       live_server: LiveServer,
                                       served_html: dict[str, str]) -> None:
    page = open_page(viewport=viewport, storage_state=storage_state(screen.role))
    served_html[screen.name] = screen.open(page, live_server.accounts).text()
    check_axe(page)
    if viewport is NARROW:
        check_reflow(page)
    assert_no_browser_problems(page)


_CONTROLS_OFF_SCREEN = """
() => {
  const width = document.documentElement.clientWidth;
  const off = [];
  for (const element of document.querySelectorAll(
      "a[href], button, input:not([type=hidden]), select, textarea, [tabindex]")) {
    if (element.classList.contains("skip-link") || element.closest("[hidden]")) continue;
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (style.display === "none" || style.visibility === "hidden") continue;
    const inScroller = element.closest(".table-wrap") && element.closest(".table-wrap") !== element;
    if (!inScroller && (box.width < 1 || box.height < 1 || box.left < 0 || box.right > width + 1)) {
      off.push(element.outerHTML.slice(0, 120));
    }
  }
  return off;
}
"""


@pytest.mark.parametrize("zoom", ["text-200", "page-200"])
@pytest.mark.parametrize("screen", [s for s in SCREENS if "zoom" in s.tags], ids=_name)
def test_screen_is_usable_at_200_percent(screen: Screen, zoom: str,
                                         open_page: Callable[..., Page],
                                         storage_state: Callable[[str], Any],
                                         live_server: LiveServer) -> None:
    """WCAG 1.4.4: text resized to 200 % (1280 px, root font size doubled) and the whole page
    zoomed to 200 % (a 640 px viewport at device scale 2): nothing scrolls sideways, nothing is
    cut off, every control stays on screen."""
    if zoom == "page-200":
        page = open_page(viewport={"width": 640, "height": 400}, device_scale_factor=2,
                         storage_state=storage_state(screen.role))
        screen.open(page, live_server.accounts)
    else:
        page = open_page(viewport=DESKTOP, storage_state=storage_state(screen.role))
        screen.open(page, live_server.accounts)
        # CSSOM changes are not inline styles: the CSP allows them.
        page.evaluate("document.documentElement.style.fontSize = '200%'")
    check_reflow(page)
    off_screen = page.evaluate(_CONTROLS_OFF_SCREEN)
    assert not off_screen, "controls out of reach:\n  " + "\n  ".join(off_screen)
    assert_no_browser_problems(page)


@pytest.fixture(scope="module")
def served_html() -> dict[str, str]:
    """The HTML each screen was served, kept by the tests above for the validator."""
    return {}


@pytest.fixture(scope="module")
def validator_results(browser: Browser, live_server: LiveServer,
                      storage_state: Callable[[str], Any],
                      served_html: dict[str, str]) -> dict[str, list[dict[str, Any]] | str]:
    """Every screen's HTML, validated in one run of the W3C validator (one JVM start): the
    validator's problems by screen, or why the screen could not be opened.

    Screens the tests above did not open (e.g. when run alone with ``-k``) are opened here."""
    failures: dict[str, str] = {}
    for screen in SCREENS:
        if screen.name in served_html:
            continue
        context = browser.new_context(base_url=live_server.url,
                                      storage_state=storage_state(screen.role))
        try:
            served_html[screen.name] = screen.open(context.new_page(), live_server.accounts).text()
        except AssertionError as error:
            failures[screen.name] = f"{screen.name} could not be opened: {error}"
        finally:
            context.close()
    results: dict[str, list[dict[str, Any]] | str] = {}
    results.update(validate_html({screen.name: served_html[screen.name] for screen in SCREENS
                                  if screen.name not in failures}))
    results.update(failures)
    return results


@pytest.mark.parametrize("screen", SCREENS, ids=_name)
def test_screen_is_valid_html(screen: Screen,
                              validator_results: dict[str, list[dict[str, Any]] | str]) -> None:
    messages = validator_results[screen.name]
    if isinstance(messages, str):
        pytest.fail(messages, pytrace=False)
    assert not messages, html_report(screen.name, messages)


# --- reports: the dashboard of figures, its charts and data tables ----------------------------

SCREENS += [
    Screen("rapports", STAFF, _go("/equipe/rapports"), "Rapports d'activité", tags=ZOOM),
    Screen("rapports-reseau-annee", NETWORK_ADMIN,
           _go("/equipe/rapports?site=reseau&periode=annee&annee=2026"), "Rapports d'activité"),
    Screen("rapports-periode-refusee", STAFF,
           _go("/equipe/rapports?periode=trimestre&trimestre=2026-9"), "Rapports d'activité",
           422),
]
