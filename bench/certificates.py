"""Time per certificate: a batch of 30 laid out once against 30 separate renders.

    .venv/bin/python bench/certificates.py [--count 30]

Not part of the test suite: speed is measured here, never asserted in a test.
"""

from __future__ import annotations

import argparse
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=30)
    args = parser.parse_args()

    from portal import create_app
    from portal.models.vocab import DocumentKind
    from portal.pdf.documents import batch_pdf, pdf_for
    from portal.pdf.merge import merge_pdfs
    from portal.pdf.samples import sample

    app = create_app({"SECRET_KEY": "b" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    certificate = sample(DocumentKind.CERTIFICATE)
    snapshots = [{**certificate, "person_name": f"Personne n° {n}",
                  "number": f"ATT-2026-MER-{n:06d}"} for n in range(1, args.count + 1)]
    with app.test_request_context():
        pdf_for(DocumentKind.CERTIFICATE, snapshots[0])  # start the worker, warm the fonts

        start = time.perf_counter()
        for snapshot in snapshots:
            pdf_for(DocumentKind.CERTIFICATE, snapshot)
        separate = time.perf_counter() - start

        start = time.perf_counter()
        parts = batch_pdf(DocumentKind.CERTIFICATE, snapshots)
        merged = merge_pdfs(parts, title="Attestations")
        batch = time.perf_counter() - start
    assert len(parts) == args.count
    print(f"{args.count} certificates")
    each = separate / args.count * 1000
    print(f"  separate renders : {separate:7.2f} s total, {each:7.1f} ms each")
    print(f"  one batch layout : {batch:7.2f} s total, {batch / args.count * 1000:7.1f} ms each"
          f"  (merged PDF {len(merged) // 1024} KiB)")
    print(f"  speed-up         : {separate / batch:7.2f} ×")


if __name__ == "__main__":
    main()
