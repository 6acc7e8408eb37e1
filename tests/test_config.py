"""Settings precedence: defaults → instance/config.py → environment → create_app's argument."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from app import create_app
from config import (
    DEFAULTS,
    SETTINGS,
    SettingError,
    environment_settings,
    load_settings,
    normalise_database_url,
    typed_value,
)


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
    ("key", "raw", "expected"),
    [
        ("TRIBUNE_RATELIMIT_ENABLED", "true", True),
        ("TRIBUNE_RATELIMIT_ENABLED", "Yes", True),
        ("TRIBUNE_SQL_ECHO", "on", True),
        ("TRIBUNE_SQL_ECHO", "1", True),
        ("TRIBUNE_RATELIMIT_ENABLED", "false", False),
        ("TRIBUNE_RATELIMIT_ENABLED", "NO", False),
        ("TRIBUNE_SQL_ECHO", "off", False),
        ("TRIBUNE_TRUSTED_PROXIES", "3", 3),
        ("TRIBUNE_AUTO_CLOSE_DAYS", " 0 ", 0),
        ("TRIBUNE_REJECTION_RATE", "0.5", 0.5),
        ("TRIBUNE_TALLY_CACHE_SECONDS", "2", 2.0),
        ("SECRET_KEY_FALLBACKS", '["old-1", "old-2"]', ["old-1", "old-2"]),
        ("SECRET_KEY_FALLBACKS", "old-1, old-2 old-3", ["old-1", "old-2", "old-3"]),
        ("TRIBUNE_LOGIN_LIMIT_IP", "20 per 10 minutes", "20 per 10 minutes"),
        ("TRIBUNE_PASSWORD_METHOD", "scrypt", "scrypt"),
        ("TRIBUNE_REDIS_PREFIX", "42", "42"),
    ],
)
def test_environment_values_are_parsed_to_the_settings_type(
    key: str, raw: str, expected: Any
) -> None:
    value = environment_settings({key: raw})[key]

    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("key", "raw", "expected_message"),
    [
        ("TRIBUNE_FLOOD_LIMIT", "drie", "TRIBUNE_FLOOD_LIMIT must be a whole number, not 'drie'"),
        ("TRIBUNE_FLOOD_LIMIT", "3.5", "TRIBUNE_FLOOD_LIMIT must be a whole number, not '3.5'"),
        ("TRIBUNE_REJECTION_RATE", "30%", "TRIBUNE_REJECTION_RATE must be a number, not '30%'"),
        ("TRIBUNE_SQL_ECHO", "maybe", "TRIBUNE_SQL_ECHO must be true or false, not 'maybe'"),
        ("SECRET_KEY_FALLBACKS", "[1, 2]", "SECRET_KEY_FALLBACKS must be a list of strings"),
        ("SECRET_KEY_FALLBACKS", "[broken", "SECRET_KEY_FALLBACKS must be a JSON array"),
    ],
)
def test_bad_environment_values_stop_the_app_with_the_settings_name(
    tmp_path: Path, key: str, raw: str, expected_message: str
) -> None:
    with pytest.raises(SettingError) as caught:
        load_settings(tmp_path, environ={key: raw})

    assert str(caught.value).startswith(expected_message)


def test_bad_value_in_the_instance_file_stops_the_app(tmp_path: Path) -> None:
    write_instance_config(tmp_path, 'TRIBUNE_TALLY_MAX_AGE = "five"\n')

    with pytest.raises(SettingError, match="TRIBUNE_TALLY_MAX_AGE must be a whole number"):
        load_settings(tmp_path, environ={})


def test_instance_file_and_argument_values_are_typed_too(tmp_path: Path) -> None:
    write_instance_config(tmp_path, 'TRIBUNE_FLOOD_LIMIT = "4"\nMAX_CONTENT_LENGTH = "1000"\n')

    settings = load_settings(tmp_path, {"TRIBUNE_REPORT_THRESHOLD": 2}, environ={})

    assert settings["TRIBUNE_FLOOD_LIMIT"] == 4
    assert settings["MAX_CONTENT_LENGTH"] == 1000
    assert settings["TRIBUNE_REPORT_THRESHOLD"] == 2.0
    assert isinstance(settings["TRIBUNE_REPORT_THRESHOLD"], float)
    with pytest.raises(SettingError, match="TRIBUNE_RATELIMIT_ENABLED must be a bool"):
        load_settings(tmp_path, {"TRIBUNE_RATELIMIT_ENABLED": 1}, environ={})


def test_unknown_tribune_variables_are_not_settings() -> None:
    # The test runner's own switches (TRIBUNE_TEST_*, TRIBUNE_REQUIRE_SERVICES) are no setting.
    environ = {"TRIBUNE_REQUIRE_SERVICES": "1", "TRIBUNE_TEST_POSTGRES_URL": "postgresql://t"}

    assert environment_settings(environ) == {}


def test_every_setting_has_its_type_and_a_default_of_that_type() -> None:
    for key, setting in SETTINGS.items():
        assert setting.help, key
        if setting.default is None:
            assert setting.nullable, key
        else:
            assert typed_value(key, setting.default) == setting.default, key


def test_derived_settings(tmp_path: Path) -> None:
    settings = load_settings(tmp_path, environ={"REDIS_URL": "redis://cache/3"})

    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache/3"
    assert settings["RATELIMIT_ENABLED"] is True
    without_redis = load_settings(tmp_path, environ={"TRIBUNE_RATELIMIT_ENABLED": "false"})
    assert without_redis["RATELIMIT_STORAGE_URI"] == "memory://"
    assert without_redis["RATELIMIT_ENABLED"] is False


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
