"""``flask --app portal …`` commands."""

from __future__ import annotations

import os
import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask_babel import ngettext

from portal.config import is_production
from portal.extensions import db
from portal.models.people import Site
from portal.models.vocab import StaffRole
from portal.public_urls import public_url
from portal.services import accounts, login_sessions, vouchers
from portal.services.audit import Actor
from portal.services.errors import ServiceError


def _fail(error: ServiceError) -> None:
    click.echo(f"Erreur : {error.message} ({error.code})", err=True)
    sys.exit(1)


@click.command("create-site")
@click.option("--code", required=True, help="2 à 6 lettres, utilisées dans les numéros (MER).")
@click.option("--name", required=True)
@click.option("--address", default="")
@click.option("--postcode", default="")
@click.option("--city", default="")
@click.option("--phone", default="")
@click.option("--email", default="")
@click.option("--aptic-accreditation", default="")
@click.option("--signatory-name", default="")
@click.option("--signatory-role", default="")
@click.option("--regie-mention", default="",
              help="Mention de la régie de recettes, imprimée sur les reçus et bordereaux.")
@click.option("--regisseur-name", default="", help="Le régisseur (bordereaux de remise).")
@click.option("--regisseur-role", default="")
@click.option("--receipt-signatory-role", default="",
              help="Qualité de qui signe les reçus (« Mandataire de la régie »).")
def create_site(code: str, name: str, **fields: str) -> None:
    """Create a site (a centre of the network)."""
    try:
        site = accounts.create_site(code=code, name=name, actor=Actor.system(), **fields)
    except ServiceError as error:
        _fail(error)
    click.echo(f"Lieu créé : {site.code} – {site.name} (id {site.id})")


@click.command("create-staff")
@click.option("--email", required=True)
@click.option("--name", "full_name", required=True)
@click.option("--site", "site_codes", multiple=True, help="Code du lieu (plusieurs possibles).")
@click.option("--role", type=click.Choice([r.value for r in StaffRole]), default="animateur")
@click.option("--network-admin", is_flag=True, help="Administrateur de tout le réseau.")
def create_staff(email: str, full_name: str, site_codes: tuple[str, ...], role: str,
                 network_admin: bool) -> None:
    """Create a staff account. The password comes from PORTAL_STAFF_PASSWORD or a prompt."""
    password = os.environ.get("PORTAL_STAFF_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            click.echo("Erreur : donnez le mot de passe dans PORTAL_STAFF_PASSWORD.", err=True)
            sys.exit(1)
        password = click.prompt("Mot de passe (12 caractères au moins)", hide_input=True,
                                confirmation_prompt=True)
    roles: dict[int, StaffRole] = {}
    for code in site_codes:
        site = db.session.scalar(db.select(Site).filter_by(code=code.strip().upper()))
        if site is None:
            click.echo(f"Erreur : le lieu {code} n'existe pas.", err=True)
            sys.exit(1)
        roles[site.id] = StaffRole(role)
    if not roles and not network_admin:
        click.echo("Erreur : indiquez au moins un lieu (--site) ou --network-admin.", err=True)
        sys.exit(1)
    try:
        staff = accounts.create_staff(email=email, full_name=full_name, password=password,
                                      roles=roles, is_network_admin=network_admin,
                                      actor=Actor.system())
    except ServiceError as error:
        _fail(error)
    click.echo(f"Compte créé : {staff.email} (id {staff.id})")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Ne rien faire si la base contient déjà des lieux.")
def demo(if_empty: bool) -> None:
    """Load the demonstration centre (refused in production)."""
    if is_production(current_app):
        click.echo("Erreur : les données de démonstration sont refusées en production.", err=True)
        sys.exit(1)
    from portal import demo as demo_data

    if if_empty and db.session.scalar(db.select(Site.id).limit(1)) is not None:
        click.echo("La base contient déjà des données : démonstration non chargée.")
        demo_data.print_accounts(click.echo, public_url("public.home"))
        return
    demo_data.load()
    demo_data.print_accounts(click.echo, public_url("public.home"))


@click.command("backup")
@click.argument("destination", type=click.Path(dir_okay=False, path_type=Path))
def backup(destination: Path) -> None:
    """Write a consistent copy of the database (safe while the portal runs)."""
    from portal.services import backups

    try:
        path = backups.backup(current_app.config["SQLALCHEMY_DATABASE_URI"], destination)
    except ServiceError as error:
        _fail(error)
    click.echo(f"Sauvegarde écrite : {path}")


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.confirmation_option(prompt="Remplacer la base actuelle par cette sauvegarde ?")
def restore(source: Path) -> None:
    """Replace the database by a portal backup (stop the portal first)."""
    from portal.services import backups

    try:
        backups.restore(source, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except ServiceError as error:
        _fail(error)
    click.echo("Base restaurée.")


@click.command("purge-sessions")
@click.option("--days", default=login_sessions.KEEP_ENDED_DAYS, show_default=True,
              help="Garder les sessions terminées "
              "depuis moins de ce nombre de jours.")
def purge_sessions(days: int) -> None:
    """Delete login sessions that ended long ago (housekeeping, from cron)."""
    from portal.clock import now
    from portal.services.throttle import purge_old_failures

    count = login_sessions.purge_ended(now() - timedelta(days=days))
    click.echo(ngettext("%(num)d session supprimée.", "%(num)d sessions supprimées.", count))
    purge_old_failures()


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Montrer qui serait anonymisé, sans rien changer.")
def purge(dry_run: bool) -> None:
    """Anonymise the people inactive longer than the retention of every site where they are
    known (from cron, daily; idempotent). Prints ids and counts only, never a name."""
    from portal.services import personal_data

    report = personal_data.purge(dry_run=dry_run)
    if dry_run:
        click.echo(ngettext("%(num)d personne serait anonymisée.",
                            "%(num)d personnes seraient anonymisées.", len(report.due)))
        for person_id in report.due:
            click.echo(str(person_id))
        return
    click.echo(ngettext("%(num)d personne anonymisée.", "%(num)d personnes anonymisées.",
                        len(report.anonymised)))


@click.command("send-messages")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 10000),
              help="Nombre maximum de messages envoyés par ce passage.")
def send_messages(limit: int) -> None:
    """Send the queued e-mails and SMS (from cron, every few minutes)."""
    from portal import messaging
    from portal.config import ConfigurationError

    try:
        report = messaging.deliver_pending(current_app.config, limit=limit)
    except ConfigurationError as error:
        click.echo(f"Erreur de configuration : {error}", err=True)
        sys.exit(1)
    click.echo(ngettext("%(num)d envoyé", "%(num)d envoyés", report.sent) + ", "
               + ngettext("%(num)d en échec", "%(num)d en échec", report.failed))


@click.command("send-reminders")
def send_reminders() -> None:
    """Queue the reminders of the sessions starting soon (from cron, every few minutes)."""
    from portal.services import messages

    count = messages.queue_reminders()
    click.echo(ngettext("%(num)d rappel mis en file d'attente.",
                        "%(num)d rappels mis en file d'attente.", count))


documents_cli = click.Group("documents", help="Printable documents.")


@documents_cli.command("sample")
@click.argument("kind")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path))
def sample_document(kind: str, out: Path) -> None:
    """Render a document KIND from sample objects (no database), through the snapshot
    builders of the real documents: certificate, receipt…"""
    from portal.pdf.documents import pdf_for
    from portal.pdf.samples import KIND_NAMES, images, sample

    document_kind = KIND_NAMES.get(kind)
    if document_kind is None:
        known = ", ".join(KIND_NAMES)
        click.echo(f"Erreur : type de document inconnu « {kind} ». Types : {known}.", err=True)
        sys.exit(1)
    out.write_bytes(pdf_for(document_kind, sample(document_kind), **images()))
    click.echo(f"Document écrit : {out}")


@documents_cli.command("complete-pending")
def complete_pending_documents() -> None:
    """Render the documents numbered but not rendered yet (their render failed or timed out),
    under their numbers; exits with 1 if some still fail."""
    from portal.formatting import count
    from portal.services import documents

    completed, failed = documents.complete_pending(actor=Actor.system())
    click.echo(count(completed, "%(num)s document terminé", "%(num)s documents terminés", "fr")
               + ", " + count(failed, "%(num)s encore en attente", "%(num)s encore en attente",
                              "fr") + ".")
    if failed:
        sys.exit(1)


@click.command("create-cheque-programme")
@click.option("--name", required=True, help="Pass Numérique APTIC – Pas-de-Calais 2026")
@click.option("--issuer", required=True, help="Le financeur : Département du Pas-de-Calais")
@click.option("--operator", default="APTIC", show_default=True)
@click.option("--pattern", "number_pattern", default=r"[0-9A-Z]{6,30}", show_default=True,
              help="Expression régulière d'un numéro normalisé (sans espaces ni tirets).")
@click.option("--year", type=int, required=True,
              help="Année des chèques : valables jusqu'au 31/12 de cette année.")
@click.option("--face-value", type=float, default=10.0, show_default=True, help="En euros.")
@click.option("--grace-days", type=int, default=31, show_default=True,
              help="Jours acceptés après la fin de validité (un mois de grâce).")
def create_cheque_programme(name: str, issuer: str, operator: str, number_pattern: str,
                            year: int, face_value: float, grace_days: int) -> None:
    """Register a cheque programme (APTIC "Pass Numérique" or another issuer's)."""
    if not 2000 <= year <= 2100:
        click.echo("Erreur : année entre 2000 et 2100.", err=True)
        sys.exit(1)
    try:
        programme = vouchers.create_programme(
            name=name, issuer=issuer, operator=operator, number_pattern=number_pattern,
            validity_end=date(year, 12, 31), face_value_cents=round(face_value * 100),
            grace_days=grace_days, actor=Actor.system())
    except ServiceError as error:
        _fail(error)
    click.echo(f"Dispositif créé : {programme.name} (id {programme.id}), chèques acceptés "
               f"jusqu'au {programme.accepted_until:%d/%m/%Y}")


def init_app(app: Flask) -> None:
    from portal.benchdata.command import bench_data

    for command in (create_site, create_staff, create_cheque_programme, demo, backup, restore,
                    purge_sessions, purge, send_messages, send_reminders, bench_data):
        app.cli.add_command(command)
    app.cli.add_command(documents_cli)
