"""Settings: defaults, then instance/config.py, then the environment, then create_app's argument.

Every setting Tribune reads is listed in DEFAULTS (and in .env.example); the environment overrides
DATABASE_URL, REDIS_URL, SECRET_KEY, EMBED_ALLOWED_ORIGINS and any TRIBUNE_* key.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Flask / extensions
    "SECRET_KEY": None,  # generated into instance/secret_key when unset (shared by all workers)
    "DATABASE_URL": None,  # default: SQLite file under instance/
    "REDIS_URL": None,  # shared rate limits, caches and lexicon version when set
    "EMBED_ALLOWED_ORIGINS": "*",  # CSP frame-ancestors for /embed/ (space or comma separated)
    "MAX_CONTENT_LENGTH": 256 * 1024,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_DURATION": 30 * 24 * 3600,
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    "JSON_SORT_KEYS": False,
    # Tribune
    "TRIBUNE_PASSWORD_METHOD": "scrypt",  # tests use a cheap pbkdf2
    "TRIBUNE_TRUSTED_PROXIES": 0,  # number of proxies whose X-Forwarded-For we believe
    "TRIBUNE_LOGIN_LIMIT_IP": "20 per 10 minutes",
    "TRIBUNE_LOGIN_LIMIT_ACCOUNT": "5 per 10 minutes",
    "TRIBUNE_REGISTER_LIMIT_IP": "10 per hour",
    "TRIBUNE_RATELIMIT_ENABLED": True,
    "TRIBUNE_IP_HASH_KEY": None,  # keyed hash for IPs; derived from SECRET_KEY when unset
    "TRIBUNE_SQL_ECHO": False,
}


def normalise_database_url(url: str) -> str:
    """Point postgres URLs at psycopg 3 (SQLAlchemy assumes psycopg2 for plain postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _parse_env_value(raw: str) -> Any:
    """Read ints, booleans and JSON from the environment; leave other strings alone."""
    lowered = raw.strip().lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _typed_env_value(key: str, raw: str) -> Any:
    """Read a value as the type of its default: secrets and names stay strings."""
    default = DEFAULTS.get(key)
    if isinstance(default, str) or (key in DEFAULTS and default is None):
        return raw
    value = _parse_env_value(raw)
    if isinstance(default, bool) and not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false, not {raw!r}")
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(default, int | float) and not isinstance(default, bool) and not is_number:
        raise ValueError(f"{key} must be a number, not {raw!r}")
    return value


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Pick the settings Tribune takes from the environment."""
    picked: dict[str, Any] = {}
    for key in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "EMBED_ALLOWED_ORIGINS"):
        if environ.get(key):
            picked[key] = environ[key]
    for key, value in environ.items():
        if key.startswith("TRIBUNE_") and not key.startswith("TRIBUNE_TEST_"):
            picked[key] = _typed_env_value(key, value)
    return picked


def _instance_secret(instance_path: Path) -> str:
    """Read or create the secret key file so every worker signs with the same key."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


def load_settings(
    instance_path: Path,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Resolve the settings in the documented precedence order."""
    settings = dict(DEFAULTS)
    instance_file = instance_path / "config.py"
    if instance_file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)
        settings.update({k: v for k, v in namespace.items() if k.isupper()})
    settings.update(environment_settings(os.environ if environ is None else environ))
    settings.update(overrides or {})

    if not settings.get("DATABASE_URL"):
        settings["DATABASE_URL"] = f"sqlite:///{instance_path / 'tribune.db'}"
    settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    if not settings.get("SECRET_KEY"):
        settings["SECRET_KEY"] = _instance_secret(instance_path)
    if not settings.get("TRIBUNE_IP_HASH_KEY"):
        settings["TRIBUNE_IP_HASH_KEY"] = "ip:" + settings["SECRET_KEY"]
    return settings
