"""Settings: defaults, then instance/config.py, then the environment, then create_app's argument.

Every setting Tribune reads is one row of SETTINGS below (its default, its type, and whether the
environment may set it) and is listed in .env.example. The environment overrides DATABASE_URL,
REDIS_URL, SECRET_KEY, SECRET_KEY_FALLBACKS, EMBED_ALLOWED_ORIGINS and the TRIBUNE_* settings;
values read as text (the environment, or a string in instance/config.py) are parsed to the
setting's type, and a value that does not parse stops the app at startup with a clear error.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class SettingError(ValueError):
    """A setting whose value cannot be read as its type (raised at startup)."""


@dataclass(frozen=True)
class Setting:
    """One setting: its default, its type, and whether the environment may set it."""

    default: Any
    kind: type
    help: str
    env: bool = False  # read from the environment (DATABASE_URL …, every TRIBUNE_* setting)
    nullable: bool = False  # None is a valid value (its meaning is in `help`)


def _tribune(default: Any, kind: type, help: str, nullable: bool = False) -> Setting:
    return Setting(default, kind, help, env=True, nullable=nullable)


SETTINGS: dict[str, Setting] = {
    # ------------------------------------------------------------ Flask and extensions
    "SECRET_KEY": Setting(
        None,
        str,
        "signs sessions and tokens; generated into instance/secret_key when unset",
        env=True,
        nullable=True,
    ),
    "SECRET_KEY_FALLBACKS": Setting(
        None,
        list,
        "earlier keys still accepted while rotating SECRET_KEY",
        env=True,
        nullable=True,
    ),
    "DATABASE_URL": Setting(
        None,
        str,
        "SQLAlchemy URL; default a SQLite file instance/tribune.db",
        env=True,
        nullable=True,
    ),
    "REDIS_URL": Setting(
        None,
        str,
        "shared rate limits, caches and lexicon version when set",
        env=True,
        nullable=True,
    ),
    "EMBED_ALLOWED_ORIGINS": Setting(
        "",
        str,
        "sites that may show Tribune's embeds: frame /embed/ (CSP frame-ancestors), call the "
        "comments embed and its APIs (CORS) and get its sign-in popup's token (space or comma "
        "separated; empty = no foreign site, * = any)",
        env=True,
    ),
    "MAIL_URL": Setting(
        "",
        str,
        "how mail leaves: smtp://[user:password@]host[:port][?starttls=1] or smtps://…; empty = "
        "write each message as an .eml file under instance/mail/ (development, listed at "
        "/beheer/mail)",
        env=True,
    ),
    "MAIL_FROM": Setting(
        "Tribune <noreply@tribune.local>", str, "the From of every mail Tribune sends", env=True
    ),
    "MAIL_CA_FILE": Setting(
        None,
        str,
        "CA bundle to verify the SMTP server's TLS certificate (default: the system's)",
        env=True,
        nullable=True,
    ),
    "MAX_CONTENT_LENGTH": Setting(256 * 1024, int, "largest request body in bytes"),
    "SESSION_COOKIE_HTTPONLY": Setting(True, bool, "session cookie hidden from scripts"),
    "SESSION_COOKIE_SAMESITE": Setting("Lax", str, "SameSite of the session cookie"),
    "REMEMBER_COOKIE_HTTPONLY": Setting(True, bool, "remember-me cookie hidden from scripts"),
    "REMEMBER_COOKIE_SAMESITE": Setting("Lax", str, "SameSite of the remember-me cookie"),
    "REMEMBER_COOKIE_DURATION": Setting(30 * 24 * 3600, int, "remember-me lifetime, seconds"),
    "WTF_CSRF_TIME_LIMIT": Setting(
        None, int, "CSRF token lifetime; None = as long as the session", nullable=True
    ),
    "JSON_SORT_KEYS": Setting(False, bool, "JSON keys in the order the code wrote them"),
    "RATELIMIT_STORAGE_URI": Setting(
        None, str, "Flask-Limiter storage; default REDIS_URL, else memory://", nullable=True
    ),
    "RATELIMIT_ENABLED": Setting(
        None, bool, "Flask-Limiter on/off; default TRIBUNE_RATELIMIT_ENABLED", nullable=True
    ),
    "RATELIMIT_KEY_PREFIX": Setting("tribune-rl", str, "prefix of Flask-Limiter's keys"),
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": Setting(
        True,
        bool,
        "while the limit storage (Redis) is unreachable, each worker counts the limits in its "
        "own memory (checked again after 1, 2, 4 … 32 s) instead of failing the request",
    ),
    "RATELIMIT_STORAGE_OPTIONS": Setting(
        {},
        dict,
        "options of the limit storage; on Redis default {key_prefix: RATELIMIT_KEY_PREFIX}",
    ),
    # ------------------------------------------------------------ Tribune: accounts, requests
    "TRIBUNE_PASSWORD_METHOD": _tribune("scrypt", str, "werkzeug hash method (tests: pbkdf2)"),
    "TRIBUNE_TRUSTED_PROXIES": _tribune(
        0, int, "proxies whose X-Forwarded-For/-Proto/-Host are believed"
    ),
    "TRIBUNE_METRICS_NETWORKS": _tribune(
        "127.0.0.0/8 ::1",
        str,
        "networks (CIDRs, comma or space separated) whose clients may read /metrics",
    ),
    "TRIBUNE_METRICS_TOKEN": _tribune(
        None,
        str,
        "bearer token that opens /metrics from anywhere; unset = networks only",
        nullable=True,
    ),
    "TRIBUNE_LOG_FORMAT": _tribune(
        "text", str, "the line logged per request: text (key=value) or json (one object)"
    ),
    "TRIBUNE_PUBLIC_URL": _tribune(
        None,
        str,
        "scheme://host[:port] of absolute URLs; unset = the request's Host (warned outside dev)",
        nullable=True,
    ),
    "TRIBUNE_HTTPS": _tribune(
        "auto",
        str,
        "Secure cookies and HSTS: auto (when the request is HTTPS), always, never",
    ),
    "TRIBUNE_HSTS_MAX_AGE": _tribune(
        365 * 24 * 3600, int, "Strict-Transport-Security max-age on HTTPS answers (0 = no HSTS)"
    ),
    "TRIBUNE_LOGIN_LIMIT_IP": _tribune("20 per 10 minutes", str, "failed logins per IP"),
    "TRIBUNE_LOGIN_LIMIT_ACCOUNT_IP": _tribune(
        "5 per 10 minutes", str, "failed logins per account from one IP"
    ),
    "TRIBUNE_LOGIN_LIMIT_ACCOUNT": _tribune(
        "10 per minute", str, "failed logins per account, all IPs (not for its known browsers)"
    ),
    "TRIBUNE_REGISTER_LIMIT_IP": _tribune("10 per hour", str, "registrations per IP"),
    "TRIBUNE_RATELIMIT_ENABLED": _tribune(True, bool, "rate limits on (off in most tests)"),
    "TRIBUNE_RESET_LIMIT_IP": _tribune(
        "10 per hour", str, "password-reset requests (/wachtwoord-vergeten) per IP"
    ),
    "TRIBUNE_RESET_LIMIT_ADDRESS": _tribune(
        "3 per hour", str, "password-reset requests per e-mail address, all IPs"
    ),
    "TRIBUNE_ACCOUNT_MAIL_LIMIT": _tribune(
        "5 per hour",
        str,
        "mails a signed-in account may ask for (verification link again, change of address)",
    ),
    "TRIBUNE_RESET_TOKEN_MINUTES": _tribune(60, int, "how long a password-reset link works"),
    "TRIBUNE_VERIFY_TOKEN_HOURS": _tribune(72, int, "how long an e-mail verification link works"),
    "TRIBUNE_EMAIL_CHANGE_TOKEN_HOURS": _tribune(
        24, int, "how long the link that confirms a new e-mail address works"
    ),
    "TRIBUNE_IP_HASH_KEY": _tribune(
        None, str, "key of the IP hash; derived from SECRET_KEY when unset", nullable=True
    ),
    "TRIBUNE_EMBED_SESSION_SECONDS": _tribune(
        900, int, "lifetime of a comments embed's access token (refreshed by the embed)"
    ),
    "TRIBUNE_SSO_SECRET": _tribune(
        None, str, "HS256 secret shared with the news site's backend; unset = no HS256", True
    ),
    "TRIBUNE_SSO_PUBLIC_KEY": _tribune(
        None, str, "PEM public key (RSA or Ed25519) of the site's SSO signer; unset = none", True
    ),
    "TRIBUNE_SSO_ISSUER": _tribune(
        None, str, "required `iss` of SSO tokens; unset = not checked", nullable=True
    ),
    "TRIBUNE_SSO_LEEWAY_SECONDS": _tribune(
        60, int, "clock difference allowed on the exp/iat of SSO tokens"
    ),
    "TRIBUNE_SITE_NAME": _tribune(
        "Tribune", str, "the site's name in mails (subject, greeting, footer)"
    ),
    "TRIBUNE_MAIL_DIRECTORY": _tribune(
        None,
        str,
        "where mail goes as .eml files while MAIL_URL is empty; default instance/mail",
        nullable=True,
    ),
    "TRIBUNE_OUTBOX_MAX_ATTEMPTS": _tribune(
        8, int, "delivery attempts of a mail or webhook before it is given up (dead)"
    ),
    "TRIBUNE_OUTBOX_BACKOFF_SECONDS": _tribune(
        30.0, float, "wait after the first failed attempt; doubles after each further failure"
    ),
    "TRIBUNE_OUTBOX_MAX_BACKOFF_SECONDS": _tribune(
        6 * 3600.0, float, "the longest wait between two attempts"
    ),
    "TRIBUNE_OUTBOX_LEASE_SECONDS": _tribune(
        120, int, "how long a worker holds a message it took; after that another may retry it"
    ),
    "TRIBUNE_MAIL_PER_RECIPIENT_PER_HOUR": _tribune(
        20, int, "mails one address receives per hour at most; more wait for the next hour"
    ),
    "TRIBUNE_MAIL_TIMEOUT_SECONDS": _tribune(10.0, float, "SMTP connect and command timeout"),
    "TRIBUNE_WORKER_INTERVAL_SECONDS": _tribune(
        1.0, float, "how often an idle worker looks for due messages and jobs"
    ),
    "TRIBUNE_SQL_ECHO": _tribune(False, bool, "log every SQL statement"),
    "TRIBUNE_REDIS_PREFIX": _tribune("tribune", str, "prefix of Tribune's own Redis keys"),
    # ------------------------------------------------------------ comments and moderation
    "TRIBUNE_REQUIRE_VERIFIED_EMAIL": _tribune(
        False,
        bool,
        "posting, replying and reporting need a confirmed e-mail address (SSO accounts never do)",
    ),
    "TRIBUNE_EDIT_WINDOW_SECONDS": _tribune(600, int, "how long an author may edit a comment"),
    "TRIBUNE_UNDO_DELETE_SECONDS": _tribune(
        600, int, "how long an author may undo deleting their comment"
    ),
    "TRIBUNE_NEW_ACCOUNT_COMMENTS": _tribune(
        2, int, "first N comments of a new account held when any flag fires"
    ),
    "TRIBUNE_REJECTION_RATE": _tribune(
        0.3, float, "recent rejection share above which comments are held"
    ),
    "TRIBUNE_REJECTION_MIN_DECIDED": _tribune(3, int, "decided comments before the rate counts"),
    "TRIBUNE_REJECTION_WINDOW_DAYS": _tribune(30, int, "days the rejection rate looks back"),
    "TRIBUNE_FLOOD_LIMIT": _tribune(3, int, "comments per window per user, else 429"),
    "TRIBUNE_FLOOD_WINDOW_SECONDS": _tribune(30.0, float, "the flood window"),
    "TRIBUNE_DUPLICATE_WINDOW_SECONDS": _tribune(3600.0, float, "how long a repeat is a duplicate"),
    "TRIBUNE_NEAR_DUPLICATE_SIMILARITY": _tribune(0.85, float, "similarity of a near duplicate"),
    "TRIBUNE_REPORT_THRESHOLD": _tribune(3.0, float, "weighted report score that hides a comment"),
    "TRIBUNE_NEW_REPORTER_DAYS": _tribune(
        7, int, "reports of accounts younger than this count half"
    ),
    "TRIBUNE_EMBED_CREATES_ARTICLES": _tribune(
        False,
        bool,
        "the comments embed creates an unknown article from an allowed page's title and URL",
    ),
    "TRIBUNE_AUTO_CLOSE_DAYS": _tribune(30, int, "days after which comments close (0 = never)"),
    "TRIBUNE_LEXICON_CHECK_SECONDS": _tribune(
        3.0, float, "how often a worker checks the word-list version"
    ),
    "TRIBUNE_THREAD_CACHE_SECONDS": _tribune(
        60.0, float, "thread pages in Redis (keyed by the article's thread version)"
    ),
    "TRIBUNE_THREAD_LOCAL_CACHE_SECONDS": _tribune(
        60.0, float, "without Redis: per-process thread pages live this long"
    ),
    # ------------------------------------------------------------ notifications
    "TRIBUNE_DIGEST_HOUR": _tribune(
        8, int, "Brussels hour (0-23) of the daily digest of notifications"
    ),
    "TRIBUNE_ALERT_WAIT_MINUTES": _tribune(
        30, int, "queue alarm when the oldest held comment waits longer (0 = off)"
    ),
    "TRIBUNE_ALERT_HELD": _tribune(
        50, int, "queue alarm when more comments than this are held (0 = off)"
    ),
    "TRIBUNE_SUSPENSION_CONTACT": _tribune(
        None,
        str,
        "address where a suspended or banned fan contests it (named in the suspension mail)",
        nullable=True,
    ),
    "TRIBUNE_DISPUTE_SETTLEMENT_BODY": _tribune(
        "Je kan je ook wenden tot een erkend orgaan voor buitengerechtelijke "
        "geschillenbeslechting (art. 21 DSA); de lijst van erkende organen vind je bij het BIPT, "
        "de Belgische coördinator voor digitale diensten (www.bipt.be).",
        str,
        "the out-of-court dispute settlement body (DSA art. 21) the statement of reasons names",
    ),
    "TRIBUNE_NOTICE_LIMIT_IP": _tribune(
        "10 per hour", str, "notices of illegal content (/melden/<id>) per IP"
    ),
    "TRIBUNE_REACTION_LIMIT": _tribune(
        "120 per minute", str, '"Sterk" reactions given or taken back per account'
    ),
    # ------------------------------------------------------------ polls
    "TRIBUNE_POLL_IP_ALLOWANCE": _tribune(
        30, int, "ballots per hour per poll per IP (IPv6 /64) before they are suspicious"
    ),
    "TRIBUNE_POLL_BURST_FLOOR": _tribune(
        60, int, "new anonymous tokens per minute below which no burst is seen"
    ),
    "TRIBUNE_POLL_BURST_FACTOR": _tribune(
        5.0, float, "a minute this many times the recent average is a burst"
    ),
    "TRIBUNE_MOTM_MIN_RATINGS": _tribune(
        10, int, "ratings a player needs to be man of the match in a player ratings poll"
    ),
    "TRIBUNE_PREDICTION_EXACT_POINTS": _tribune(
        3, int, "points for predicting a match's exact final score"
    ),
    "TRIBUNE_PREDICTION_OUTCOME_POINTS": _tribune(
        1, int, "points for predicting the right outcome (win, draw or loss) but not the score"
    ),
    "TRIBUNE_VOTER_TOKEN_MAX_AGE": _tribune(
        30 * 24 * 3600, int, "seconds an anonymous voter token stays valid"
    ),
    "TRIBUNE_VOTER_TOKEN_LIMIT": _tribune(
        "30 per minute;600 per hour", str, "voter-token issuance per IP hash"
    ),
    # ------------------------------------------------------------ webhooks
    "TRIBUNE_WEBHOOK_TIMEOUT_SECONDS": _tribune(
        5.0, float, "seconds a webhook receiver has to answer before the delivery failed"
    ),
    "TRIBUNE_WEBHOOK_ALLOW_PRIVATE": _tribune(
        False,
        bool,
        "webhooks may go to loopback/private/link-local addresses (SSRF guard off; tests, dev)",
    ),
    "TRIBUNE_WEBHOOK_ALLOW_HTTP": _tribune(
        False, bool, "webhook URLs may use http:// for any host (default: https, http localhost)"
    ),
    "TRIBUNE_WEBHOOK_SECRET_GRACE_HOURS": _tribune(
        24, int, "hours a rotated webhook secret keeps signing beside the new one"
    ),
    # ------------------------------------------------------------ the operator's scoring model
    "TRIBUNE_SCORER_URL": _tribune(
        None,
        str,
        "http(s) URL of a Perspective-compatible scoring service (…/comments:analyze); unset = "
        "no model scores comments",
        nullable=True,
    ),
    "TRIBUNE_SCORER_KEY": _tribune(
        None, str, "API key sent as ?key= on every scorer call (as Perspective wants)", True
    ),
    "TRIBUNE_SCORER_TIMEOUT_MS": _tribune(
        1500, int, "milliseconds the scorer has to answer one comment; later is a failure"
    ),
    "TRIBUNE_SCORER_BREAKER_FAILURES": _tribune(
        5, int, "consecutive scorer failures (errors, timeouts, bad answers) that open the breaker"
    ),
    "TRIBUNE_SCORER_BREAKER_COOLDOWN_SECONDS": _tribune(
        60.0, float, "how long an open breaker sends nothing before one trial call (half-open)"
    ),
    "TRIBUNE_SCORER_BACKOFF_SECONDS": _tribune(
        30.0, float, "wait before a comment whose scoring failed is tried again; doubles each time"
    ),
    "TRIBUNE_SCORER_MAX_BACKOFF_SECONDS": _tribune(
        600.0, float, "the longest wait between two scoring attempts of one comment"
    ),
    "TRIBUNE_SCORER_MAX_AGE_SECONDS": _tribune(
        3600, int, "a comment not scored this long after posting is dropped from scoring (audited)"
    ),
    # ------------------------------------------------------------ tallies
    "TRIBUNE_TALLY_CACHE_SECONDS": _tribune(
        3.0, float, "server-side cache of tally answers (0 = off)"
    ),
    "TRIBUNE_TALLY_MAX_AGE": _tribune(5, int, "Cache-Control max-age for browsers and CDNs"),
    "TRIBUNE_TALLY_STALE_SECONDS": _tribune(15, int, "Cache-Control stale-while-revalidate"),
    # ------------------------------------------------------------ live refresh
    "TRIBUNE_LIVE_REFRESH_SECONDS": _tribune(
        15, int, "seconds between live checks while one of the article's polls is open"
    ),
    "TRIBUNE_IDLE_REFRESH_SECONDS": _tribune(
        60, int, "seconds between checks for new comments when no poll is open"
    ),
    "TRIBUNE_LIVE_REFRESH_MAX_SECONDS": _tribune(
        300, int, "the longest interval the load can stretch a check to"
    ),
    "TRIBUNE_LIVE_CHECKS_PER_SECOND": _tribune(
        200.0, float, "live checks per second (all instances) above which intervals lengthen"
    ),
    # ------------------------------------------------------------ privacy (retention)
    "TRIBUNE_RETAIN_IP_DAYS": _tribune(
        90, int, "days before the IP hashes of ballots are erased by the purge (0 = kept)"
    ),
    "TRIBUNE_RETAIN_REJECTED_DAYS": _tribune(
        180, int, "days before the text of rejected and removed comments is erased (0 = kept)"
    ),
}

DEFAULTS: dict[str, Any] = {key: setting.default for key, setting in SETTINGS.items()}
HTTPS_MODES = ("auto", "always", "never")
LOG_FORMATS = ("json", "text")

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError("true or false")


def _parse_int(raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValueError("a whole number") from None


def _parse_float(raw: str) -> float:
    try:
        return float(raw.strip())
    except ValueError:
        raise ValueError("a number") from None


def _parse_list(raw: str) -> list[str]:
    """A JSON array, or items separated by commas or spaces."""
    if raw.strip().startswith("["):
        try:
            value = json.loads(raw)
        except ValueError:
            raise ValueError("a JSON array or a comma separated list") from None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError("a list of strings")
        return value
    return [item for item in re.split(r"[\s,]+", raw) if item]


def _parse_object(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ValueError("a JSON object")
    return value


_PARSERS: dict[type, Callable[[str], Any]] = {
    dict: _parse_object,
    bool: _parse_bool,
    int: _parse_int,
    float: _parse_float,
    list: _parse_list,
    str: lambda raw: raw,
}


def typed_value(key: str, value: Any) -> Any:
    """A setting's value as its type: text is parsed, ints widen to floats; else SettingError."""
    setting = SETTINGS[key]
    if value is None:
        if setting.nullable:
            return None
        raise SettingError(f"{key} must be set ({setting.help})")
    if isinstance(value, str) and setting.kind is not str:
        try:
            return _PARSERS[setting.kind](value)
        except ValueError as error:
            raise SettingError(f"{key} must be {error}, not {value!r}") from None
    if setting.kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if setting.kind is list and isinstance(value, tuple):
        return list(value)
    is_bool = isinstance(value, bool)
    if not isinstance(value, setting.kind) or (is_bool and setting.kind is not bool):
        raise SettingError(f"{key} must be a {setting.kind.__name__}, not {value!r}")
    return value


def environment_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment sets (empty values set nothing), typed."""
    return {
        key: typed_value(key, environ[key])
        for key, setting in SETTINGS.items()
        if setting.env and environ.get(key)
    }


def normalise_database_url(url: str) -> str:
    """Point postgres URLs at psycopg 3 (SQLAlchemy assumes psycopg2 for plain postgresql://)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def public_url(raw: str) -> str:
    """TRIBUNE_PUBLIC_URL as scheme://host[:port]: http(s), a host, no path, query or user."""
    error = SettingError(
        f"TRIBUNE_PUBLIC_URL must be an http(s) URL like https://tribune.example.be, not {raw!r}"
    )
    try:
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise error from None
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or any(c.isspace() or c in "\\<>\"'" for c in parts.netloc)
    ):
        raise error
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


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
    """Resolve the settings in the documented precedence order, each typed."""
    settings = dict(DEFAULTS)
    instance_file = instance_path / "config.py"
    if instance_file.exists():
        namespace: dict[str, Any] = {}
        exec(compile(instance_file.read_text(), str(instance_file), "exec"), namespace)
        settings.update({k: v for k, v in namespace.items() if k.isupper()})
    settings.update(environment_settings(os.environ if environ is None else environ))
    settings.update(overrides or {})
    # Tribune's own settings are typed whatever their source; Flask's and its extensions' may
    # take other types they accept (a timedelta for REMEMBER_COOKIE_DURATION …).
    for key, setting in SETTINGS.items():
        if setting.env or isinstance(settings[key], str):
            settings[key] = typed_value(key, settings[key])

    if settings["TRIBUNE_HTTPS"] not in HTTPS_MODES:
        raise SettingError(
            f"TRIBUNE_HTTPS must be one of {', '.join(HTTPS_MODES)}, "
            f"not {settings['TRIBUNE_HTTPS']!r}"
        )
    if settings["TRIBUNE_LOG_FORMAT"] not in LOG_FORMATS:
        raise SettingError(
            f"TRIBUNE_LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, "
            f"not {settings['TRIBUNE_LOG_FORMAT']!r}"
        )
    if settings["TRIBUNE_PUBLIC_URL"]:
        settings["TRIBUNE_PUBLIC_URL"] = public_url(settings["TRIBUNE_PUBLIC_URL"])
    else:
        settings["TRIBUNE_PUBLIC_URL"] = None
    if not settings["DATABASE_URL"]:
        settings["DATABASE_URL"] = f"sqlite:///{instance_path / 'tribune.db'}"
    settings["DATABASE_URL"] = normalise_database_url(settings["DATABASE_URL"])
    if not settings["TRIBUNE_MAIL_DIRECTORY"]:
        settings["TRIBUNE_MAIL_DIRECTORY"] = str(instance_path / "mail")
    if not settings["SECRET_KEY"]:
        settings["SECRET_KEY"] = _instance_secret(instance_path)
    if not settings["TRIBUNE_IP_HASH_KEY"]:
        settings["TRIBUNE_IP_HASH_KEY"] = "ip:" + settings["SECRET_KEY"]
    if not settings["RATELIMIT_STORAGE_URI"]:
        settings["RATELIMIT_STORAGE_URI"] = settings["REDIS_URL"] or "memory://"
    if not settings["RATELIMIT_STORAGE_OPTIONS"] and settings["RATELIMIT_STORAGE_URI"].startswith(
        "redis"
    ):
        # Flask-Limiter binds its own key prefix to the first app of a process; the storage is
        # built per app, so each app (each test) keeps its counters under its own prefix.
        settings["RATELIMIT_STORAGE_OPTIONS"] = {"key_prefix": settings["RATELIMIT_KEY_PREFIX"]}
    if settings["RATELIMIT_ENABLED"] is None:
        settings["RATELIMIT_ENABLED"] = settings["TRIBUNE_RATELIMIT_ENABLED"]
    return settings
