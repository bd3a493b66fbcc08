"""``flask --app portal bench-data --scale S [--seed N]``: the benchmark network."""

from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import inspect

from portal.config import is_production
from portal.extensions import db


@click.command("bench-data")
@click.option("--scale", type=click.FloatRange(0, 10, min_open=True), default=0.01,
              show_default=True, help="1 = un département (50 lieux, 1 000 000 inscriptions).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="Graine : la même graine donne le même réseau.")
def bench_data(scale: float, seed: int) -> None:
    """Build a realistic network for benchmarks in an empty database (refused in
    production). Migrates the database first if its schema is missing."""
    from portal import benchdata

    if is_production(current_app):
        click.echo("Erreur : les données de banc d'essai sont refusées en production.", err=True)
        sys.exit(1)
    if not inspect(db.engine).has_table("site"):
        from flask_migrate import upgrade

        upgrade()
    if not benchdata.is_empty():
        click.echo("Erreur : la base contient déjà des lieux, des personnes ou des séances. "
                   "Le banc d'essai se construit dans une base vide.", err=True)
        sys.exit(1)
    plan = benchdata.plan_for(scale)
    click.echo(f"Réseau à l'échelle {scale:g} : {plan.sites} lieux, {plan.beneficiaries} "
               f"personnes, {plan.sessions} séances, {plan.bookings} inscriptions.", err=True)
    benchdata.generate(scale, seed=seed, echo=lambda line: click.echo(line, err=True))
    click.echo(f"Mot de passe de tous les comptes : {benchdata.BENCH_PASSWORD}")
    for label, identifier in benchdata.sample_accounts():
        click.echo(f"{label} : {identifier}")
