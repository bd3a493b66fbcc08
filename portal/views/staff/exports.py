"""Staff: exports of attendance, the activity log, cheques and people as CSV or XLSX files.

The screen is a GET form (what, site or network, period, format); once it can be read it says
how many rows the file will have and links to the download, which streams: the CSV as rows
come, the XLSX from a temporary file written row by row. Rules: ``services/exports``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Generator, Iterator
from typing import Any

from flask import Response, render_template, request, url_for
from flask.globals import app_ctx, request_ctx
from flask_babel import gettext as _

from portal.services import exports, periods
from portal.services.errors import ValidationFailed
from portal.services.exports import NETWORK, Format, Kind, Scope
from portal.services.exports.writers import csv_chunks, write_xlsx
from portal.services.periods import Period
from portal.views.staff import bp, current_staff, staff_actor

#: bytes sent at a time from the XLSX temporary file.
CHUNK = 64 * 1024
_MIME = {Format.CSV: "text/csv; charset=utf-8",
         Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_FIELDS = ("quoi", "site", "format", "periode", "mois", "trimestre", "annee", "du", "au")


def _values() -> dict[str, str]:
    return {name: request.args.get(name, "")[:40] for name in _FIELDS}


def _page(values: dict[str, str], *, errors: dict[str, str] | None = None, status: int = 200,
          **context: Any) -> tuple[str, int]:
    staff = current_staff()
    places = [(NETWORK, _("Tout le réseau"))] if staff.is_network_admin else []
    places += [(str(site.id), site.name) for site in exports.sites_for(staff)]
    return render_template("staff/reports/exports.html", values=values, errors=errors or {},
                           kinds=list(Kind), places=places, large=exports.LARGE,
                           **context), status


def _read(kind_text: str | None, format_text: str | None) -> tuple[Kind, Scope, Period, Format]:
    """Everything the export needs, every readable problem gathered in one refusal."""
    errors: dict[str, str] = {}
    kind: Kind | None = None
    parsed: dict[str, Any] = {}
    for name, read in (("kind", lambda: exports.parse_kind(kind_text)),
                       ("format", lambda: exports.parse_format(format_text)),
                       ("period", lambda: periods.parse(request.args))):
        try:
            parsed[name] = read()
        except ValidationFailed as error:
            errors.update(error.details.get("fields") or {})
    kind = parsed.get("kind")
    try:
        scope = exports.scope_for(current_staff(), kind or Kind.ATTENDANCE,
                                  request.args.get("site"))
    except ValidationFailed as error:
        errors.update(error.details.get("fields") or {})
    if errors:
        raise ValidationFailed("export_input", next(iter(errors.values())), fields=errors)
    return parsed["kind"], scope, parsed["period"], parsed["format"]


@bp.route("/rapports/exports", endpoint="exports")
def exports_page() -> Any:
    values = _values()
    if not values["quoi"]:
        if values["site"]:  # a link naming a site: only where exports are allowed
            exports.scope_for(current_staff(), Kind.ATTENDANCE, values["site"])
        elif not exports.sites_for(current_staff()) and not current_staff().is_network_admin:
            exports.scope_for(current_staff(), Kind.ATTENDANCE, "")
        return _page(values)
    try:
        kind, scope, period, fmt = _read(values["quoi"], values["format"])
    except ValidationFailed as error:
        return _page(values, errors=dict(error.details.get("fields") or {}), status=422)
    rows = exports.count(kind, scope, period)
    try:
        exports.check_size(fmt, rows)
    except ValidationFailed as error:
        return _page(values, errors=dict(error.details.get("fields") or {}), status=422)
    args = {"site": NETWORK if scope.is_network else str(scope.site_id), **period.as_args()}
    download = url_for("staff.export_download", kind=kind.value, fmt=fmt.value, **args)
    return _page(values, ready={"kind": kind, "scope": scope, "period": period, "format": fmt,
                                "rows": rows, "download": download,
                                "filename": exports.filename(kind, scope, period, fmt)})


def _in_request(chunks: Generator[bytes, None, None]) -> Iterator[bytes]:
    """``chunks`` read in this request's contexts (the database session, the language) after
    the response has left the view. The first chunk (the header) is taken now and sent
    without them, so that a response dropped unread leaves no context pushed — unlike
    ``stream_with_context``, whose contexts stay pushed once the server has read one chunk."""
    contexts = (app_ctx._get_current_object(), request_ctx._get_current_object())
    first = next(chunks)

    def generate() -> Iterator[bytes]:
        yield first
        with contexts[0], contexts[1]:
            try:
                yield from chunks
            finally:
                chunks.close()

    return generate()


def _file_chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


@bp.route("/rapports/exports/<kind>.<fmt>")
def export_download(kind: str, fmt: str) -> Any:
    """``presences.csv``, ``activites.xlsx``…: an unknown kind or format is the form again."""
    values = {**_values(), "quoi": kind[:40], "format": fmt[:40]}
    try:
        export_kind, scope, period, export_format = _read(kind, fmt)
    except ValidationFailed as error:
        return _page(values, errors=dict(error.details.get("fields") or {}), status=422)
    rows = exports.count(export_kind, scope, period)
    try:
        exports.check_size(export_format, rows)
    except ValidationFailed as error:
        return _page(values, errors=dict(error.details.get("fields") or {}), status=422)
    exports.record(staff_actor(), export_kind, scope, period, export_format, rows)
    table = exports.table(export_kind, scope, period)
    if export_format is Format.CSV:
        response = Response(_in_request(csv_chunks(table)), mimetype=_MIME[export_format])
    else:
        handle, path = tempfile.mkstemp(prefix="export-", suffix=".xlsx")
        os.close(handle)
        try:
            write_xlsx(table, path, sheet=export_kind.label)
        except BaseException:
            os.unlink(path)
            raise
        response = Response(_file_chunks(path), mimetype=_MIME[export_format])
        response.headers["Content-Length"] = str(os.path.getsize(path))
    name = exports.filename(export_kind, scope, period, export_format)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
