"""Blueprints, one per audience."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from portal.views import account, auth, errors, me, public
    from portal.views.staff import bp as staff_bp

    app.register_blueprint(public.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(me.bp)
    app.register_blueprint(me.feed_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(account.bp)
    errors.init_app(app)
