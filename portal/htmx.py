"""How a view answers: the one policy for htmx and plain requests.

See docs/architecture.md#the-one-htmx-answer-policy.

- A page or its fragment from the same URL: :func:`render_page_or_partial` (the fragment only
  for a non-boosted, non-history-restore htmx request; always ``Vary: HX-Request``).
- An action's answer: :func:`answer`. For htmx, the fragment that changed (plus out-of-band
  fragments), **status 200 even for a refusal**: a refusal is an answer shown where the person
  acted, and a 4xx would make the browser log a console error for an expected outcome.
  Without JavaScript, the whole page with the answer, **422** for a refusal, as any refused
  form; or, for actions that move elsewhere, Post/Redirect/Get through :func:`hx_redirect`.
- Genuine errors (400 bad request, 403, 404, 429, 500, 503) keep their status and are shown in
  the flash area for htmx requests (``views/errors.py``).
"""

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


def refusal_status() -> int:
    """The status of a refused action: 200 for htmx (shown in place), 422 for a plain form."""
    return 200 if is_htmx() else 422


def answer(page: str, fragment: str, *, refused: bool = False, **context: Any) -> Response:
    """An action's answer: ``fragment`` for htmx, ``page`` otherwise (see the module's policy).

    ``fragment`` may be a list of templates rendered one after the other (the main fragment,
    then out-of-band ones).
    """
    if is_htmx():
        parts = [fragment] if isinstance(fragment, str) else list(fragment)
        body = "".join(render_template(name, **context) for name in parts)
        response = make_response(body, 200)
    else:
        response = make_response(render_template(page, **context),
                                 422 if refused else 200)
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
