"""The security headers every answer carries (docs/security.md#headers), checked in one place:
by ``test_headers.py`` on chosen pages and by the access matrix on every answer it gets."""

from __future__ import annotations

from typing import Any

from portal.security import CSP


def assert_security_headers(response: Any, *, where: Any = None, cacheable: bool = False) -> None:
    """The exact CSP of the app, no framing, no referrer leak, no sniffing, and (unless the
    answer is a static file) never stored: everything else is behind a login or personal."""
    headers = response.headers
    context = (where, response.status_code)
    assert headers.get("Content-Security-Policy") == CSP, context
    assert "frame-ancestors 'none'" in CSP and headers.get("X-Frame-Options") == "DENY", context
    assert headers.get("X-Content-Type-Options") == "nosniff", context
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", context
    assert headers.get("Cross-Origin-Opener-Policy") == "same-origin", context
    cache = {part.strip() for part in headers.get("Cache-Control", "").split(",")}
    if cacheable:
        assert "no-store" not in cache, context
    else:
        assert "no-store" in cache, context
