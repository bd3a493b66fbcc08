"""Portail: web portal for public digital-inclusion centres."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, hooks."""
    from portal import config as config_module
    from portal.extensions import init_extensions

    app = Flask(
        __name__,
        instance_path=os.environ.get("PORTAL_INSTANCE_PATH") or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    config_module.load(app, config or {})
    init_extensions(app)

    from portal import access, cli, formatting, htmx, i18n, log, row_urls, security, sessions
    from portal.services import throttle
    from portal.views import register_blueprints

    log.init_app(app)
    i18n.init_app(app)
    formatting.init_app(app)
    sessions.init_app(app)
    throttle.init_app(app)
    security.init_app(app)
    access.init_app(app)
    htmx.init_app(app)
    row_urls.init_app(app)
    register_blueprints(app)
    cli.init_app(app)
    return app
