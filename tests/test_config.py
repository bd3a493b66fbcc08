"""The application factory and configuration layers."""

from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigurationError, is_production
from portal.extensions import db


@pytest.fixture
def instance(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    for name in ("PORTAL_ENV", "PORTAL_DATABASE_URL", "PORTAL_SECRET_KEY", "PORTAL_DEBUG",
                 "PORTAL_RATELIMIT_STORAGE_URL", "PORTAL_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_without_configuration_uses_instance_sqlite_and_a_generated_secret(instance):
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'portal.sqlite3'}"
    key = (instance / "secret_key").read_text()
    assert app.config["SECRET_KEY"] == key and len(key) >= 48
    assert oct((instance / "secret_key").stat().st_mode)[-3:] == "600"
    # Generated once: a second start reuses it.
    assert create_app().config["SECRET_KEY"] == key


def test_instance_config_file_then_environment_override_defaults(instance, monkeypatch):
    (instance / "config.py").write_text(
        "PORTAL_NAME = 'Cyberbase'\nRATELIMIT_STORAGE_URI = 'memory://'\n"
        "SQLALCHEMY_DATABASE_URI = 'sqlite:///from-file.db'\n")
    app = create_app()
    assert app.config["PORTAL_NAME"] == "Cyberbase"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "sqlite:///from-file.db"
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgres://u:p@db.internal/portail")
    monkeypatch.setenv("PORTAL_RATELIMIT_STORAGE_URL", "redis://cache:6379/0")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u:p@db.internal/portail"
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://cache:6379/0"


def test_explicit_mapping_wins(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment")
    app = create_app({"SECRET_KEY": "given-to-the-factory"})
    assert app.config["SECRET_KEY"] == "given-to-the-factory"


PUBLIC = "https://portail.example.fr"


def test_production_refuses_to_start_without_a_secret(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()
    assert not (instance / "secret_key").exists()


def test_production_refuses_a_short_secret(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    monkeypatch.setenv("PORTAL_SECRET_KEY", "short")
    with pytest.raises(ConfigurationError):
        create_app()


def test_production_refuses_debug(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PORTAL_DEBUG", "1")
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    with pytest.raises(ConfigurationError, match="DEBUG"):
        create_app()


def test_production_settings(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    app = create_app()
    assert app.debug is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    assert app.config["PUBLIC_URL"] == PUBLIC


# --- which environment: PORTAL_ENV, any case, nothing unknown ---------------------------


@pytest.mark.parametrize("spelling", ["Production", "PRODUCTION", " production\n"])
def test_production_is_recognised_in_any_case(instance, monkeypatch, spelling):
    monkeypatch.setenv("PORTAL_ENV", spelling)
    # Recognised as production: its safeguards apply (no secret: refused).
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 40)
    monkeypatch.setenv("PORTAL_PUBLIC_URL", PUBLIC)
    app = create_app()
    assert is_production(app)
    assert app.config["ENV_NAME"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_development_is_recognised_in_any_case(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_ENV", "Development")
    app = create_app()
    assert app.config["ENV_NAME"] == "development" and not is_production(app)


@pytest.mark.parametrize("spelling", ["prod", "produciton", "staging", "", "production!"])
def test_an_unknown_environment_refuses_to_start(instance, monkeypatch, spelling):
    monkeypatch.setenv("PORTAL_ENV", spelling)
    with pytest.raises(ConfigurationError, match="PORTAL_ENV") as refused:
        create_app()
    assert "production" in str(refused.value) and "development" in str(refused.value)
    assert not (instance / "secret_key").exists()


def test_the_instance_file_is_normalised_too(instance):
    (instance / "config.py").write_text("ENV_NAME = 'Production'\n")
    with pytest.raises(ConfigurationError, match="PORTAL_SECRET_KEY"):
        create_app()
    (instance / "config.py").write_text("ENV_NAME = 'live'\n")
    with pytest.raises(ConfigurationError, match="PORTAL_ENV"):
        create_app()


# --- the public address printed on documents and handed out as links --------------------


@pytest.mark.parametrize("address", [
    None,  # the development default, http://127.0.0.1:5000
    "http://portail.example.fr",  # not HTTPS
    "https://localhost", "https://LOCALHOST:8443", "https://portail.localhost",
    "https://127.0.0.1", "https://127.0.1.1:8000/portail", "https://[::1]:8443",
    "https://0.0.0.0",
])
def test_production_refuses_an_address_that_is_not_public_https(instance, monkeypatch,
                                                                  address):
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "k" * 40)
    if address is not None:
        monkeypatch.setenv("PORTAL_PUBLIC_URL", address)
    with pytest.raises(ConfigurationError, match="PORTAL_PUBLIC_URL"):
        create_app()


@pytest.mark.parametrize("address", [
    "portail.example.fr", "ftp://portail.example.fr", "https://", "https://portail.example.fr?x=1",
    "https://portail.example.fr/#top", "https://user:pw@portail.example.fr", "https:///v",
    "https://portail example.fr", "https://portail.example.fr:99999", "https://x.fr/{code}",
])
def test_a_malformed_address_refuses_to_start_everywhere(instance, monkeypatch, address):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", address)
    with pytest.raises(ConfigurationError, match="PORTAL_PUBLIC_URL"):
        create_app()


def test_the_address_is_normalised(instance, monkeypatch):
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "HTTPS://Portail.Example.FR/Cyber/")
    assert create_app().config["PUBLIC_URL"] == "https://portail.example.fr/Cyber"
    monkeypatch.setenv("PORTAL_PUBLIC_URL", "http://127.0.0.1:8000")  # fine for a demo
    assert create_app().config["PUBLIC_URL"] == "http://127.0.0.1:8000"


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(instance):
    app = create_app({"SECRET_KEY": "x" * 40})
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
    with app.app_context():
        db.engine.dispose()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "rate_limits": "memory"}


def test_healthz_answers_503_when_the_database_is_down(instance, tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing/dir/db.sqlite3",
                      "SECRET_KEY": "x" * 40})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unavailable"
    with app.app_context():
        db.engine.dispose()
