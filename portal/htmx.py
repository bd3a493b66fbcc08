"""Small helpers for answering htmx and plain requests from the same views (DESIGN.md §5)."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, make_response, redirect, render_template, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def wants_partial() -> bool:
    """A fragment is wanted for htmx requests that are neither boosted nor history restores."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render_page_or_partial(page: str, partial: str, status: int = 200, **context: Any) -> Response:
    template = partial if wants_partial() else page
    response = make_response(render_template(template, **context), status)
    response.vary.add("HX-Request")
    return response


def hx_redirect(location: str) -> Response:
    """Redirect: a full navigation for htmx, a 303 for plain forms (Post/Redirect/Get)."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = location
        return response
    return redirect(location, 303)  # type: ignore[return-value]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["is_htmx"] = is_htmx
