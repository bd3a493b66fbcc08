"""Files sent to the browser: one way to say what a file is, its name, and whether to open it
in place (``inline``: a PDF to print at once) or save it (``attachment``). Every response is
already ``Cache-Control: no-store`` (``portal/security.py``)."""

from __future__ import annotations

from flask import Response, make_response


def file_response(data: bytes | str, mime: str, filename: str, *,
                  inline: bool = False) -> Response:
    body = data.encode() if isinstance(data, str) else data
    response = make_response(body)
    response.headers["Content-Type"] = mime
    disposition = "inline" if inline else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.headers["Content-Length"] = str(len(body))
    return response


def pdf_response(data: bytes, filename: str, *, inline: bool = False) -> Response:
    """A PDF to save, or with ``inline`` to open in the browser's viewer and print at once."""
    return file_response(data, "application/pdf", filename, inline=inline)
