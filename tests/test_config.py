"""Settings precedence: defaults → instance/config.py → environment → create_app's argument."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from config import DEFAULTS, environment_settings, load_settings, normalise_database_url


def write_instance_config(instance: Path, text: str) -> None:
    instance.mkdir(parents=True, exist_ok=True)
    (instance / "config.py").write_text(text)


def test_defaults_apply_without_instance_file_or_environment(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={})

    assert settings["TRIBUNE_LOGIN_LIMIT_IP"] == DEFAULTS["TRIBUNE_LOGIN_LIMIT_IP"]
    assert settings["MAX_CONTENT_LENGTH"] == 256 * 1024
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'tribune.db'}"
    assert settings["TRIBUNE_IP_HASH_KEY"] == "ip:" + settings["SECRET_KEY"]


def test_instance_file_overrides_defaults(tmp_path: Path) -> None:
    write_instance_config(
        tmp_path,
        'TRIBUNE_LOGIN_LIMIT_IP = "7 per minute"\n'
        "MAX_CONTENT_LENGTH = 1000\n"
        'lowercase = "ignored"\n',
    )

    settings = load_settings(tmp_path, environ={})

    assert settings["TRIBUNE_LOGIN_LIMIT_IP"] == "7 per minute"
    assert settings["MAX_CONTENT_LENGTH"] == 1000
    assert "lowercase" not in settings


def test_environment_overrides_instance_file(tmp_path: Path) -> None:
    write_instance_config(
        tmp_path, 'TRIBUNE_LOGIN_LIMIT_IP = "7 per minute"\nSECRET_KEY = "from-file"\n'
    )
    environ = {"TRIBUNE_LOGIN_LIMIT_IP": "9 per minute", "SECRET_KEY": "from-env"}

    settings = load_settings(tmp_path, environ=environ)

    assert settings["TRIBUNE_LOGIN_LIMIT_IP"] == "9 per minute"
    assert settings["SECRET_KEY"] == "from-env"


def test_argument_overrides_environment_and_instance_file(tmp_path: Path) -> None:
    write_instance_config(tmp_path, 'TRIBUNE_LOGIN_LIMIT_IP = "7 per minute"\n')
    environ = {"TRIBUNE_LOGIN_LIMIT_IP": "9 per minute", "DATABASE_URL": "sqlite:///env.db"}

    settings = load_settings(
        tmp_path,
        {"TRIBUNE_LOGIN_LIMIT_IP": "11 per minute", "DATABASE_URL": "sqlite:///arg.db"},
        environ=environ,
    )

    assert settings["TRIBUNE_LOGIN_LIMIT_IP"] == "11 per minute"
    assert settings["DATABASE_URL"] == "sqlite:///arg.db"


def test_create_app_argument_beats_the_process_environment(
    app_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIBUNE_LOGIN_LIMIT_IP", "9 per minute")
    monkeypatch.setenv("TRIBUNE_REGISTER_LIMIT_IP", "4 per hour")
    app_settings["TRIBUNE_LOGIN_LIMIT_IP"] = "11 per minute"

    application = create_app(app_settings)
    try:
        assert application.config["TRIBUNE_LOGIN_LIMIT_IP"] == "11 per minute"
        assert application.config["TRIBUNE_REGISTER_LIMIT_IP"] == "4 per hour"
        assert application.config["TESTING"] is True
    finally:
        application.extensions["tribune.engine"].dispose()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("Yes", True),
        ("on", True),
        ("false", False),
        ("NO", False),
        ("off", False),
        ("3", 3),
        ("0", 0),
        ('["https://a.example", "https://b.example"]', ["https://a.example", "https://b.example"]),
        ('{"a": 1}', {"a": 1}),
        ("20 per 10 minutes", "20 per 10 minutes"),
        ("scrypt", "scrypt"),
    ],
)
def test_tribune_environment_values_are_parsed(raw: str, expected: Any) -> None:
    assert environment_settings({"TRIBUNE_SOMETHING": raw}) == {"TRIBUNE_SOMETHING": expected}


def test_environment_picks_only_known_keys_and_tribune_settings() -> None:
    picked = environment_settings(
        {
            "DATABASE_URL": "postgresql://db/tribune",
            "REDIS_URL": "redis://cache/0",
            "SECRET_KEY": "s3cret",
            "EMBED_ALLOWED_ORIGINS": "https://a.example",
            "TRIBUNE_TRUSTED_PROXIES": "1",
            "TRIBUNE_TEST_DATABASE_URL": "postgresql://test",
            "HOME": "/root",
            "MAX_CONTENT_LENGTH": "1",
        }
    )

    assert picked == {
        "DATABASE_URL": "postgresql://db/tribune",
        "REDIS_URL": "redis://cache/0",
        "SECRET_KEY": "s3cret",
        "EMBED_ALLOWED_ORIGINS": "https://a.example",
        "TRIBUNE_TRUSTED_PROXIES": 1,
    }


def test_empty_environment_values_do_not_override(tmp_path: Path) -> None:
    write_instance_config(tmp_path, 'SECRET_KEY = "from-file"\n')

    settings = load_settings(tmp_path, environ={"SECRET_KEY": "", "DATABASE_URL": ""})

    assert settings["SECRET_KEY"] == "from-file"
    assert settings["DATABASE_URL"] == f"sqlite:///{tmp_path / 'tribune.db'}"


def test_ip_hash_key_from_environment_stays_a_string(tmp_path: Path) -> None:
    # A random key that happens to be all digits must not turn into a number (hash_ip encodes it).
    settings = load_settings(tmp_path, environ={"TRIBUNE_IP_HASH_KEY": "20261128"})

    assert settings["TRIBUNE_IP_HASH_KEY"] == "20261128"


def test_secret_key_file_is_created_once_and_reused(tmp_path: Path) -> None:
    instance = tmp_path / "instance"

    first = load_settings(instance, environ={})
    key_file = instance / "secret_key"
    second = load_settings(instance, environ={})

    assert key_file.exists()
    assert len(first["SECRET_KEY"]) >= 32
    assert key_file.read_text().strip() == first["SECRET_KEY"]
    assert second["SECRET_KEY"] == first["SECRET_KEY"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_no_secret_key_file_when_a_key_is_configured(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={"SECRET_KEY": "from-env"})

    assert settings["SECRET_KEY"] == "from-env"
    assert not (tmp_path / "secret_key").exists()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/tribune", "postgresql+psycopg://u:p@db:5432/tribune"),
        ("postgresql://u:p@db:5432/tribune", "postgresql+psycopg://u:p@db:5432/tribune"),
        ("postgresql+psycopg://u@db/tribune", "postgresql+psycopg://u@db/tribune"),
        ("postgresql+psycopg2://u@db/tribune", "postgresql+psycopg2://u@db/tribune"),
        ("sqlite:///instance/tribune.db", "sqlite:///instance/tribune.db"),
        ("mysql://u@db/tribune", "mysql://u@db/tribune"),
    ],
)
def test_database_url_is_rewritten_for_psycopg3(url: str, expected: str) -> None:
    assert normalise_database_url(url) == expected


def test_load_settings_rewrites_environment_database_url(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={"DATABASE_URL": "postgres://u@db/tribune"})

    assert settings["DATABASE_URL"] == "postgresql+psycopg://u@db/tribune"
