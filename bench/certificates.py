"""Time per certificate: a batch laid out once, separate renders, and WeasyPrint's floor.

    .venv/bin/python bench/certificates.py [--count 30] [--rounds 3]

Four figures, in milliseconds of CPU per certificate (this process, which makes the Jinja
template and the QR code, plus the render process, which lays the PDF out: CPU time stays
comparable on a machine shared with other work, wall time does not; ``--wall`` for wall time):

- ``separate_ms``: each certificate rendered on its own (``pdf_for``);
- ``batch_ms``: the certificates of a session laid out in one pass and cut into one PDF each
  (``batch_pdf``, what closing a session does);
- ``minimal_ms`` and ``minimal_batch_ms``: the floor, a minimal A4 page (a heading, a line of
  text and a QR code of its own, made as a certificate's, ``certificate_qr_data_uri``)
  rendered by the same worker with the same options (tagged PDF/A-3a, the project's fonts),
  alone and in a batch of one page each.

``merge_ms`` is apart: putting the stored PDFs end to end for printing (``merge_pdfs``),
done when the print is asked for, not when a session is closed. The four measures run
interleaved (their order turns from one round to the next) and each figure is the median of
the rounds. Budgets (issue 14): ``batch_ms`` <= 0.6 x ``separate_ms`` and <= 1.5 x
``minimal_ms``. Not part of the test suite: speed is measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

MINIMAL_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title></head>
<body>{pages}</body></html>"""
MINIMAL_BODY = """<section style="break-before: page"><h1>{title}</h1>
<p>Page minimale de référence.</p><img src="{qr}" alt="QR code" width="100" height="100">
</section>"""


def _minimal_html(titles: list[str], qr: Callable[[str], str]) -> str:
    pages = "".join(MINIMAL_BODY.format(title=title, qr=qr(f"https://portail.example.fr/v/{n}"))
                    for n, title in enumerate(titles))
    return MINIMAL_PAGE.format(title=titles[0], pages=pages)


def _certificates(count: int) -> list[dict[str, Any]]:
    from portal.models.vocab import DocumentKind
    from portal.pdf.samples import sample

    certificate = sample(DocumentKind.CERTIFICATE)
    base = certificate["verify_url"].rstrip("/").rpartition("/")[0]
    return [{**certificate, "person_name": f"Personne n° {n}",
             "number": f"ATT-2026-MER-{n:06d}", "verify_url": f"{base}/BENCH{n:07d}"}
            for n in range(1, count + 1)]


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of a running process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _clock(wall: bool) -> Callable[[], float]:
    from portal.pdf import render

    def cpu() -> float:
        executor = render._executor
        workers = list(getattr(executor, "_processes", {}) or {}) if executor else []
        return time.process_time() + sum(_cpu_seconds(pid) for pid in workers)

    return time.perf_counter if wall else cpu


def measure(count: int = 30, rounds: int = 3, *, wall: bool = False) -> dict[str, float]:
    """Milliseconds (of CPU, or of wall time with ``wall``) per certificate: ``separate_ms``,
    ``batch_ms``, ``minimal_ms``, ``minimal_batch_ms`` (medians of ``rounds`` interleaved
    rounds) and ``merge_ms``."""
    from portal import create_app
    from portal.models.vocab import DocumentKind
    from portal.pdf.documents import batch_pdf, certificate_qr_data_uri, pdf_for
    from portal.pdf.merge import merge_pdfs
    from portal.pdf.render import render_pdf, render_pdf_pages

    app = create_app({"SECRET_KEY": "b" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    snapshots = _certificates(count)
    titles = [f"Page minimale n° {n}" for n in range(1, count + 1)]
    kind = DocumentKind.CERTIFICATE
    parts: list[bytes] = []

    def separate() -> None:
        for snapshot in snapshots:
            pdf_for(kind, snapshot)

    def batch() -> None:
        parts[:] = batch_pdf(kind, snapshots)
        assert len(parts) == count

    def minimal() -> None:
        for title in titles:
            render_pdf(_minimal_html([title], certificate_qr_data_uri))

    def minimal_batch() -> None:
        assert len(render_pdf_pages(_minimal_html(titles, certificate_qr_data_uri), [1] * count,
                                    titles)) == count

    def merge() -> None:
        merge_pdfs(parts, title="Attestations")

    runs: dict[str, Callable[[], None]] = {
        "separate_ms": separate, "batch_ms": batch, "minimal_ms": minimal,
        "minimal_batch_ms": minimal_batch}
    times: dict[str, list[float]] = {name: [] for name in [*runs, "merge_ms"]}
    with app.test_request_context():
        pdf_for(kind, snapshots[0])  # start the worker, load its fonts
        minimal_batch()
        clock = _clock(wall)
        names = list(runs)
        for turn in range(rounds):
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                start = clock()
                runs[name]()
                times[name].append((clock() - start) / count * 1000)
            start = clock()
            merge()
            times["merge_ms"].append((clock() - start) / count * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--wall", action="store_true", help="wall time instead of CPU time")
    args = parser.parse_args()
    figures = measure(args.count, args.rounds, wall=args.wall)
    print(f"{args.count} certificates, median of {args.rounds} rounds "
          f"(ms of {'wall' if args.wall else 'CPU'} time per certificate)")
    for name, value in figures.items():
        print(f"  {name:17s} {value:7.1f}")
    print(f"  batch / separate  {figures['batch_ms'] / figures['separate_ms']:7.2f}"
          "  (budget <= 0.6)")
    print(f"  batch / minimal   {figures['batch_ms'] / figures['minimal_ms']:7.2f}"
          "  (budget <= 1.5)")


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's portal
    main()
