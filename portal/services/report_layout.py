"""The dashboard's charts laid out for the screen and the printed report alike: for each one a
title, an SVG chart (``portal/charts.py``), a one-sentence summary and its data table, all
written in the current language (the printed report is made under ``force_locale("fr")``)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.numbers import format_percent
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup

from portal import charts
from portal.clock import today_local
from portal.extensions import db
from portal.formatting import DOCUMENT_LANG, duration, euros, full_date, reader_locale
from portal.models.people import StaffMember
from portal.pdf.documents import image_data_uri, report_pdf
from portal.services import reports
from portal.services.audit import Actor, record
from portal.services.periods import Period
from portal.services.reports import Report, Row


@dataclass(frozen=True)
class Block:
    id: str
    title: str
    summary: str
    svg: Markup | None  # None when there is nothing to draw
    head: list[str]
    rows: list[list[str]]


def percent(share: float | None) -> str:
    if share is None:
        return "–"
    return format_percent(share, locale=reader_locale())


def _accompaniments(number: int) -> str:
    return ngettext("%(num)d accompagnement", "%(num)d accompagnements", number)


def _cheques(number: int) -> str:
    return ngettext("%(num)d chèque", "%(num)d chèques", number)


def _breakdown(name: str, title: str, rows: list[Row]) -> Block:
    block_id = f"graphique-{name}"
    if not rows:
        return Block(block_id, title, _("Rien à compter sur la période."), None, [], [])
    values = [f"{row.count} ({percent(row.share)})" for row in rows]
    top = max(rows, key=lambda r: r.count)
    summary = _("En tête : « %(label)s », %(count)s, soit %(share)s des accompagnements.",
                label=top.label, count=_accompaniments(top.count), share=percent(top.share))
    return Block(block_id, title, summary, charts.bars(rows, values, f"{block_id}-titre"),
                 [title, _("Accompagnements"), _("Part")],
                 [[row.label, str(row.count), percent(row.share)] for row in rows])


def blocks(report: Report) -> list[Block]:
    """Every chart of the report, in the order they are shown."""
    result: list[Block] = []
    months = report.by_month
    busiest = max(months, key=lambda r: r.count) if months else None
    result.append(Block(
        "graphique-mois", _("Accompagnements par mois"),
        _("Le mois le plus actif est %(month)s : %(count)s.", month=busiest.label,
          count=_accompaniments(busiest.count))
        if busiest and busiest.count else _("Aucun accompagnement sur la période."),
        charts.columns(months, [str(r.count) for r in months], "graphique-mois-titre"),
        [_("Mois"), _("Accompagnements")], [[r.label, str(r.count)] for r in months]))
    for breakdown in report.breakdowns:
        result.append(_breakdown(breakdown.name, breakdown.title, breakdown.rows))
    cheques = report.cheques
    programmes = cheques.by_programme
    if programmes:
        top = max(programmes, key=lambda r: r.count)
        result.append(Block(
            "graphique-cheques", _("Chèques encaissés par programme"),
            _("%(programme)s : %(count)s, %(value)s.", programme=top.label,
              count=_cheques(top.count), value=euros(top.value_cents)),
            charts.bars(programmes, [f"{_cheques(r.count)}, {euros(r.value_cents)}"
                                     for r in programmes], "graphique-cheques-titre"),
            [_("Programme"), _("Chèques"), _("Valeur")],
            [[r.label, str(r.count), euros(r.value_cents)] for r in programmes]))
        result.append(Block(
            "graphique-cheques-mois", _("Chèques encaissés par mois"),
            _("%(count)s sur la période, pour %(value)s.", count=_cheques(cheques.count),
              value=euros(cheques.value_cents)),
            charts.columns(cheques.by_month, [str(r.count) for r in cheques.by_month],
                           "graphique-cheques-mois-titre"),
            [_("Mois"), _("Chèques"), _("Valeur")],
            [[r.label, str(r.count), euros(r.value_cents)] for r in cheques.by_month]))
    return result


def print_report(staff: StaffMember, site_id: int | None, period: Period, *,
                 actor: Actor) -> bytes:
    """The printable report for a funder: the same figures, charts and tables as the dashboard,
    in French, as a tagged PDF (``portal/pdf``), with the site's logo for a single site.

    Not a numbered stored document: it is a view of figures laid out on demand (nothing of it
    is kept); its download is audited (``report.pdf``)."""
    site = reports.scope(staff, site_id)
    with force_locale(DOCUMENT_LANG):
        report = reports.compute(site, period)
        period_label = period.label(DOCUMENT_LANG)
        title = f"Rapport d’activité – {report.scope_label} – {period_label}"
        data = {
            "doc_title": title, "pdf_title": title, "lang": DOCUMENT_LANG,
            "site": {"name": report.scope_label}, "period_label": period_label,
            "report": report, "blocks": blocks(report), "key_figures": key_figures(report),
            "definitions": definitions(),
            "logo_data_uri": image_data_uri(reports.site_logo(site),
                                            (site.logo_mime if site else None) or "image/png"),
            "printed_on": full_date(today_local(), DOCUMENT_LANG),
        }
        pdf = report_pdf(data)
    record(actor, "report.pdf", object_type="site" if site else "network",
           object_id=site.id if site else "", site_id=site.id if site else None,
           period=period.as_args())
    db.session.commit()
    return pdf


def key_figures(report: Report) -> list[tuple[str, str]]:
    """The big numbers at the top, with their labels."""
    s = report.sessions
    return [
        (str(s.held), _("séances tenues")),
        (f"{s.seats_taken} / {s.seats_offered}", _("places prises / offertes")),
        (percent(s.attendance_rate), _("taux de présence")),
        (percent(s.no_show_rate), _("absences non excusées")),
        (str(s.waitlist_demand), _("demandes en liste d'attente")),
        (str(report.people.distinct), _("personnes accompagnées")),
        (f"{report.people.new} / {report.people.returning}", _("nouvelles / déjà venues")),
        (str(report.collective), _("accompagnements collectifs")),
        (str(report.individual), _("accompagnements individuels")),
        (str(report.people.unnamed_helps), _("dont aides individuelles sans nom")),
        (duration(report.workshop_minutes), _("d'ateliers")),
        (duration(report.help_minutes), _("d'aide individuelle")),
        (str(report.cheques.count), _("chèques encaissés")),
        (euros(report.cheques.value_cents), _("valeur des chèques")),
    ]


def definitions() -> list[tuple[str, str]]:
    """How each figure is counted, in plain words (the module docstring of ``reports``)."""
    return [
        (_("Séances tenues"), _("séances non annulées de la période qui ont déjà commencé.")),
        (_("Places"), _("offertes : la capacité des séances tenues ; prises : leurs inscrits, "
                        "présents et absents (une personne excusée a libéré sa place).")),
        (_("Taux de présence"), _("présents / (présents + absents + excusés + inscrits "
                                  "restés « inscrits » après la séance).")),
        (_("Absences non excusées"), _("absents / le même total.")),
        (_("Liste d'attente"), _("places demandées en liste d'attente pour ces séances, que "
                                 "la personne ait eu une place ensuite ou non.")),
        (_("Accompagnements"), _("chaque personne présente à une séance compte pour un "
                                 "accompagnement collectif ; chaque aide individuelle pour un "
                                 "accompagnement individuel.")),
        (_("Personnes"), _("les personnes nommées présentes à une séance ou aidées dans la "
                           "période, comptées une fois ; nouvelles si elles n'avaient aucune "
                           "activité avant. Les aides sans nom sont comptées à part.")),
        (_("Heures"), _("la durée des séances tenues ; celle des aides individuelles.")),
        (_("Chèques"), _("les chèques encaissés dans la période, à leur date "
                         "d'encaissement.")),
        (_("Répartitions"), _("par accompagnement : une séance donne ses thèmes, son "
                              "matériel et sa durée, « lieu d'activité » ; genre, âge (l'année "
                              "de l'activité moins l'année de naissance), situation et commune "
                              "de la personne. Un accompagnement à deux thèmes compte sous "
                              "chacun.")),
    ]
