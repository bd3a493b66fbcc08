"""Absolute addresses of the portal, always built from the configured public address.

A link that leaves the screen — printed on a certificate or a login card, read from a QR code,
copied into a calendar application — must lead to the portal's real address, whatever the
``Host`` header of the request that made it (a proxy, a spoofed header, a demo on another port).
So every absolute link comes from ``PUBLIC_URL`` (``PORTAL_PUBLIC_URL``, checked when the
application starts, see ``portal.config``), never from the request. Relative links (``url_for``
without ``_external``) stay relative.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app

#: stands for the verification code while the address of ``/v/<code>`` is built.
_CODE_SLOT = "CODESLOT"


def public_url(endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint`` under the public address (``url_for`` semantics)."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    current_app.inject_url_defaults(endpoint, values)
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/",
                                       url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def verify_url_template() -> str:
    """Where a printed QR code sends its reader: the address of ``/v/<code>``, ``{code}`` to fill.

    Services format it with each document's code (``template.format(code=…)``).
    """
    return public_url("public.verify", code=_CODE_SLOT).replace(_CODE_SLOT, "{code}")


def public_address() -> str:
    """The address as a person types it, printed on login cards: ``portail.example.fr/cyber``."""
    return current_app.config["PUBLIC_URL"].split("://", 1)[1]
