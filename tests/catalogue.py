"""What the suite proves, area by area, for someone who does not read code.

Every test module belongs to exactly one area (``tests/test_catalogue.py`` fails otherwise);
``scripts/test-report`` joins this catalogue with the outcomes of the last runs
(``tests/results.py``) into the README's table and ``docs/test-report.md``. The "what" and "how"
below are the claims; the "last result" column comes from the run alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Area:
    name: str
    what: str
    how: str
    modules: tuple[str, ...]


AREAS: tuple[Area, ...] = (
    Area(
        "Races",
        "Two people never get the last seat, a cheque is never taken twice, numbers never "
        "repeat, when many act at once; check-ins, bookings and pages never wait for PDFs "
        "being made.",
        "Real threads on one database; two gunicorn processes over HTTP; 30 clients for a "
        "minute; counts checked afterwards; PDF renders held while others act.",
        ("tests/services/test_checkin_races.py", "tests/test_http_races.py",
         "tests/test_load.py", "tests/services/test_render_while_writing.py",
         "tests/test_worker_model.py"),
    ),
    Area(
        "Faults",
        "When the database goes away or a PDF fails to render, nothing is half-written or "
        "lost, the person is told, and the portal recovers by itself.",
        "A real PostgreSQL stopped and started during requests; a SQLite file locked past "
        "its wait; the real PDF renderer made to fail or time out.",
        ("tests/test_database_faults.py", "tests/test_render_faults.py"),
    ),
    Area(
        "Access",
        "Each person reaches only what their role allows, at the sites where they hold it; "
        "another person's booking or document does not exist for them.",
        "Every route of the application against nine kinds of people at two or more "
        "sites, with the expected answer for each; a new route without one fails the suite.",
        ("tests/web/test_access_matrix.py", "tests/web/test_routes.py",
         "tests/services/test_staff_access.py"),
    ),
    Area(
        "Input",
        "Hostile or broken input never causes an error page or changes data wrongly; "
        "scripts typed into fields are shown as text everywhere, files included.",
        "Generated hostile values on every form and parameter as every role; attack texts "
        "stored then read back in pages, exports, PDFs; disguised image files.",
        ("tests/hostile/test_hostile_input.py", "tests/web/test_bad_input.py",
         "tests/services/test_uploads.py", "tests/test_logging.py",
         "tests/web/test_stored_xss.py", "tests/web/test_upload_attacks.py"),
    ),
    Area(
        "Sessions and logins",
        "Passwords are stored safely; an account is locked after repeated failures; a login "
        "ends on logout, password change, disabling, inactivity and after its lifetime.",
        "Logins over HTTP with captured cookies replayed; the clock moved forward; failures "
        "counted across two processes with and without Redis.",
        ("tests/web/test_auth_security.py", "tests/web/test_session_replay.py",
         "tests/test_shared_limits.py", "tests/services/test_login_failures.py"),
    ),
    Area(
        "Headers",
        "Every answer — pages, files, errors — tells the browser to run only the portal's "
        "own code, never to frame it, and not to keep personal pages.",
        "The security headers checked on every response of the access matrix and of the "
        "error pages.",
        ("tests/web/test_headers.py",),
    ),
    Area(
        "Backups and migrations",
        "A backup taken while people work restores to a consistent state; a restore refuses "
        "what is not a backup; the database schema upgrades and downgrades cleanly.",
        "Backups and restores on SQLite and PostgreSQL; every migration run up and down on "
        "both engines with data in place.",
        ("tests/test_backups.py", "tests/test_migrations.py", "tests/test_migration_search.py",
         "tests/test_migration_rebuilds.py"),
    ),
    Area(
        "Messages",
        "E-mails and text messages are neither lost nor sent twice, even when the mail "
        "server refuses, hangs or the sender stops mid-way.",
        "A real local mail server that misbehaves on demand; the sender killed between "
        "sending and recording.",
        ("tests/test_messaging_delivery.py", "tests/services/test_messages.py",
         "tests/services/test_gsm7.py", "tests/services/test_convocations.py",
         "tests/test_outbox_faults.py"),
    ),
    Area(
        "Documents",
        "Certificates, receipts, cards, sheets and slips are tagged PDFs in French with "
        "gap-free numbers, load nothing from outside, and verify online.",
        "Every document kind rendered by the real WeasyPrint and read back (text, tags, "
        "fonts, links); the public verification page.",
        ("tests/pdf/test_documents.py", "tests/pdf/test_fonts.py", "tests/pdf/test_isolation.py",
         "tests/pdf/test_structure.py", "tests/pdf/test_certificate_layout.py",
         "tests/services/test_documents.py",
         "tests/web/test_staff_documents.py", "tests/web/test_verify.py"),
    ),
    Area(
        "Personal data",
        "A person's data can be printed for them and erased on request or after the "
        "retention period, leaving only anonymous figures.",
        "Every text column of every table scanned for the person's details after "
        "anonymisation, on both engines.",
        ("tests/services/test_personal_data.py", "tests/web/test_personal_data.py",
         "tests/web/test_public_urls.py"),
    ),
    Area(
        "Rules of the centre",
        "Bookings, waiting lists, check-in, cheques, closing, help, programmes, courses and "
        "the team follow the centre's rules, each refusal explained in plain French.",
        "One rule per test on the services, then the same through the screens without "
        "JavaScript.",
        ("tests/services/test_accompaniments.py", "tests/services/test_audit_viewer.py",
         "tests/services/test_bookings.py", "tests/services/test_checkin.py",
         "tests/services/test_cheques.py", "tests/services/test_closing.py",
         "tests/services/test_closures.py", "tests/services/test_courses.py",
         "tests/services/test_desk_and_roster.py", "tests/services/test_merge.py",
         "tests/services/test_programme.py", "tests/services/test_programmes.py",
         "tests/services/test_registration.py", "tests/services/test_scheduling.py",
         "tests/services/test_search.py", "tests/services/test_series.py",
         "tests/services/test_sites.py", "tests/services/test_team.py",
         "tests/services/test_workshops.py", "tests/services/test_write_statements.py",
         "tests/test_cli_programmes.py",
         "tests/web/test_checkin_screen.py", "tests/web/test_me.py",
         "tests/web/test_staff_catalogue.py", "tests/web/test_staff_desk.py",
         "tests/web/test_staff_help.py", "tests/web/test_staff_programme.py",
         "tests/web/test_staff_session_page.py", "tests/web/test_staff_sessions.py",
         "tests/web/test_staff_sites.py", "tests/web/test_staff_team.py",
         "tests/web/test_smoke.py"),
    ),
    Area(
        "Reports",
        "The funders' figures, exports and network view count what the national model "
        "counts, in Paris days, on both engines.",
        "A known dataset with every figure asserted; exports read back as a spreadsheet "
        "would; queries counted as data grows.",
        ("tests/services/test_reports.py", "tests/services/test_exports.py",
         "tests/services/test_network.py", "tests/services/test_periods.py",
         "tests/test_charts.py", "tests/web/test_staff_reports.py",
         "tests/web/test_staff_exports.py", "tests/web/test_staff_network.py"),
    ),
    Area(
        "Accessibility and screens",
        "Every screen works at 320 px and on a desktop, without JavaScript, with a keyboard "
        "and a screen reader, and is valid HTML; each audience's journeys work end to end.",
        "Chromium driven by Playwright; axe-core (WCAG 2.1 AA) and the W3C validator on "
        "every screen; forms refused and corrected as a person would.",
        ("tests/browser/test_pages.py", "tests/browser/test_forms.py",
         "tests/browser/test_journeys.py", "tests/browser/test_booking_journeys.py",
         "tests/browser/test_catalogue_journeys.py", "tests/browser/test_checkin_journeys.py",
         "tests/browser/test_desk_journeys.py", "tests/browser/test_exports_journeys.py",
         "tests/browser/test_help_journeys.py", "tests/browser/test_network_journeys.py",
         "tests/browser/test_privacy_journeys.py", "tests/browser/test_programme_journeys.py",
         "tests/browser/test_reports_journeys.py", "tests/browser/test_schedule_journeys.py",
         "tests/browser/test_sites_journeys.py", "tests/browser/test_team_journeys.py",
         "tests/web/test_forms.py", "tests/web/test_staff_forms.py"),
    ),
    Area(
        "Pages at a department's scale",
        "The pages read most often cost the same whatever the size of the network, and show "
        "what grows (results, past workshops, sites) by pages.",
        "Statements counted per request on a small network, then on one grown by a year of "
        "sessions and bookings; the pages' links checked with bad and out-of-range numbers.",
        ("tests/web/test_query_counts.py", "tests/web/test_row_urls.py"),
    ),
    Area(
        "Language",
        "French and English are complete, plain and correctly typeset; wording is inclusive "
        "and dates, money and counts read naturally.",
        "The translation catalogue compared with the sources; every screen read in English; "
        "French plural and typography rules.",
        ("tests/web/test_i18n.py", "tests/web/test_english_typography.py",
         "tests/web/test_wording.py", "tests/test_formatting.py", "tests/test_plurals.py"),
    ),
    Area(
        "Set-up and documentation",
        "A fresh machine installs and runs the portal with two commands; the demo and the "
        "README's walk-throughs work as written; dependencies are locked with their hashes.",
        "The commands run from a clean state; the README's steps replayed on the demo; "
        "every document the code cites exists.",
        ("tests/test_config.py", "tests/test_demo.py", "tests/test_docs.py",
         "tests/test_locks.py", "tests/test_make_run.py", "tests/web/test_demo_door.py",
         "tests/web/test_readme_first_month.py", "tests/test_catalogue.py",
         "tests/test_production_like.py", "tests/test_bench_data.py",
         "tests/test_bench_harness.py"),
    ),
)


def area_of(module: str) -> Area | None:
    for area in AREAS:
        if module in area.modules:
            return area
    return None
