"""Files from a :class:`~portal.services.exports.Table`: CSV for French Excel and LibreOffice,
and XLSX (XlsxWriter, constant memory).

CSV: UTF-8 with a BOM, ``;`` between cells, ``\\r\\n`` between rows, a decimal comma, days as
dd/mm/yyyy. A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is given a leading ``'`` so that no spreadsheet reads it as a formula (OWASP "CSV injection");
numbers are numbers, written as such, so ``-3`` stays ``-3``.

XLSX: rows written in order to a temporary file (``constant_memory``), typed cells (days as
dates, amounts and counts as numbers), text always through ``write_string`` (never a formula),
a bold frozen header row with filters.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import xlsxwriter
from flask_babel import gettext as _

from portal.services.exports import Table

BOM = "\ufeff"
#: characters that make a spreadsheet read a cell as a formula (or hide one after them).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: rows gathered before a chunk of CSV is handed on.
CSV_CHUNK_ROWS = 200


def neutralise(text: str) -> str:
    """A text cell no spreadsheet will evaluate."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal | float):
        return f"{value:.2f}".replace(".", ",")
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return neutralise(str(value))


def csv_chunks(table: Table) -> Iterator[bytes]:
    """The CSV file as byte chunks, as the rows come: the BOM and the header alone first (no
    query is run before they go out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(header) for header in table.headers])
    yield buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in table.rows:
        writer.writerow([csv_cell(value) for value in row])
        pending += 1
        if pending >= CSV_CHUNK_ROWS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def write_xlsx(table: Table, path: str, *, sheet: str = "Export") -> int:
    """Write the table to ``path``; the number of data rows."""
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "in_memory": False,
                                          "strings_to_formulas": False,
                                          "strings_to_numbers": False,
                                          "strings_to_urls": False})
    try:
        worksheet = workbook.add_worksheet(sheet[:31])
        bold = workbook.add_format({"bold": True})
        day = workbook.add_format({"num_format": "dd/mm/yyyy"})
        when = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
        money = workbook.add_format({"num_format": "#,##0.00"})
        for column, header in enumerate(table.headers):
            worksheet.write_string(0, column, header, bold)
            worksheet.set_column(column, column, max(10, min(len(header) + 2, 40)))
        worksheet.freeze_panes(1, 0)
        row_number = 0
        for row_number, row in enumerate(table.rows, start=1):
            for column, value in enumerate(row):
                if value is None or value == "":
                    continue
                if isinstance(value, bool):
                    worksheet.write_string(row_number, column, _("Oui") if value else _("Non"))
                elif isinstance(value, int):
                    worksheet.write_number(row_number, column, value)
                elif isinstance(value, Decimal | float):
                    worksheet.write_number(row_number, column, float(value), money)
                elif isinstance(value, datetime):
                    worksheet.write_datetime(row_number, column, value.replace(tzinfo=None),
                                             when)
                elif isinstance(value, date):
                    worksheet.write_datetime(row_number, column, value, day)
                else:
                    worksheet.write_string(row_number, column, str(value))
        worksheet.autofilter(0, 0, max(row_number, 1), max(len(table.headers) - 1, 0))
    finally:
        workbook.close()
    return row_number
