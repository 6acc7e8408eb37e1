"""Fixtures: an app and a freshly migrated database per test, on SQLite or PostgreSQL.

Backend: SQLite by default; set TRIBUNE_TEST_DATABASE_URL=postgresql://… to run the suite on
PostgreSQL. Each test gets a copy of a database migrated once per run (a file copy on SQLite,
CREATE DATABASE … TEMPLATE on PostgreSQL). Tests that need PostgreSQL, Redis or Chromium skip
with a reason when those are absent, and fail instead when TRIBUNE_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import models
from accounts.services import Registration, register_user
from app import create_app
from config import normalise_database_url
from migrations import upgrade_database
from models import Article, Role, User
from tests.mail_server import mail_settings, smtp_server  # noqa: F401  (fixtures for every test)

TEST_PASSWORD = "correct horse battery"
CHEAP_HASH = "pbkdf2:sha256:1"
REQUIRE_SERVICES = os.environ.get("TRIBUNE_REQUIRE_SERVICES") == "1"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"


def missing_service(reason: str) -> None:
    """Skip locally, fail in CI: a missing service must never silently pass."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


# ---------------------------------------------------------------- services


def _postgres_candidate_url() -> str:
    url = os.environ.get("TRIBUNE_TEST_POSTGRES_URL") or os.environ.get(
        "TRIBUNE_TEST_DATABASE_URL", ""
    )
    return normalise_database_url(url if url.startswith("postgres") else DEFAULT_POSTGRES)


def _postgres_server_url() -> str | None:
    url = _postgres_candidate_url()
    try:
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception:
        return None
    return url


class PostgresServer:
    """Creates and drops throwaway databases on one PostgreSQL server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.run_id = uuid.uuid4().hex[:8]
        self._counter = itertools.count()
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return make_url(self.url).set(database=name).render_as_string(hide_password=False)

    def create(self, prefix: str, template: str | None = None) -> str:
        name = f"tribune_{prefix}_{self.run_id}_{next(self._counter)}"
        suffix = f' TEMPLATE "{template}"' if template else ""
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)
        return name

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.created:
            self.created.remove(name)

    def close(self) -> None:
        for name in list(self.created):
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for throwaway databases (skips when none answers)."""
    url = _postgres_server_url()
    if url is None:
        missing_service("PostgreSQL is not reachable at " + _postgres_candidate_url())
    server = PostgresServer(url)  # type: ignore[arg-type]
    yield server
    server.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A Redis URL that answers PING (skips when none does)."""
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        missing_service(f"Redis is not reachable at {url}")
    return url


# ---------------------------------------------------------------- databases


def _backend() -> str:
    url = os.environ.get("TRIBUNE_TEST_DATABASE_URL", "")
    return "postgresql" if url.startswith("postgres") else "sqlite"


@pytest.fixture(scope="session")
def database_template(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A database migrated once per run; tests get copies. Returns its name or file path."""
    if _backend() == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = server.create("template")
        upgrade_database(server.url_for(name))
        # Templates must have no open connections when they are copied.
        return name
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade_database(f"sqlite:///{path}")
    return str(path)


class PostgresScratch:
    """One migrated PostgreSQL database, emptied before each test.

    TRUNCATE … RESTART IDENTITY gives every test the same empty tables and ids as a fresh copy,
    at a tenth of the cost of CREATE DATABASE … TEMPLATE; leftover sessions of the previous test
    are ended first so nothing can block it.
    """

    def __init__(self, server: PostgresServer, template: str) -> None:
        self.name = server.create("scratch", template=template)
        self.url = server.url_for(self.name)
        self.engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        tables = ", ".join(
            f'"{table.name}"' for table in reversed(models.Base.metadata.sorted_tables)
        )
        self.truncate = text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")

    def reset(self) -> str:
        with self.engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": self.name},
            )
            conn.execute(self.truncate)
        return self.url


@pytest.fixture(scope="session")
def postgres_scratch(
    postgres_server: PostgresServer, database_template: str
) -> Iterator[PostgresScratch]:
    scratch = PostgresScratch(postgres_server, database_template)
    yield scratch
    scratch.engine.dispose()


@pytest.fixture
def database_url(
    request: pytest.FixtureRequest, database_template: str, tmp_path: Path
) -> Iterator[str]:
    """A fresh, migrated database for one test."""
    if _backend() == "postgresql":
        yield request.getfixturevalue("postgres_scratch").reset()
        return
    path = tmp_path / "tribune.db"
    shutil.copyfile(database_template, path)
    yield f"sqlite:///{path}"


# ---------------------------------------------------------------- app


@pytest.fixture
def app_settings(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Settings for the test app; tests may change them before `app` is built."""
    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "TRIBUNE_PASSWORD_METHOD": CHEAP_HASH,
        "WTF_CSRF_ENABLED": False,
        "TRIBUNE_RATELIMIT_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": "tribune-test-" + uuid.uuid4().hex[:8],
        # Every Redis key of this test's app (caches, flood memory, bursts) is its own.
        "TRIBUNE_REDIS_PREFIX": "tribune-test-" + uuid.uuid4().hex[:8],
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Mail of the file transport stays in the test's own directory, never instance/.
        "TRIBUNE_MAIL_DIRECTORY": str(tmp_path / "mail"),
        # Retries come at once in tests; a test that measures backoff sets its own.
        "TRIBUNE_OUTBOX_BACKOFF_SECONDS": 0.0,
    }
    if not settings["REDIS_URL"]:
        settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return settings


@pytest.fixture
def app(app_settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The app on a fresh database."""
    application = create_app(app_settings)
    yield application
    application.extensions["tribune.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking rows (commit what the app should see)."""
    session: Session = app.extensions["tribune.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def make_user(db: Session) -> Callable[..., User]:
    """Create a committed user with TEST_PASSWORD."""
    counter = itertools.count(1)

    def make(role: Role = Role.FAN, username: str | None = None, **fields: Any) -> User:
        name = username or f"{role.value}{next(counter)}"
        user = register_user(
            db, Registration(name, f"{name.lower()}@example.test", TEST_PASSWORD), CHEAP_HASH, role
        )
        for key, value in fields.items():
            setattr(user, key, value)
        db.commit()
        return user

    return make


def login(client: FlaskClient, user: User, remember: bool = False) -> None:
    """Log `client` in as `user` through the real login form."""
    response = client.post(
        "/login",
        data={
            "login": user.username,
            "password": TEST_PASSWORD,
            **({"remember": "on"} if remember else {}),
        },
    )
    assert response.status_code == 302, response.data[:500]


def unique_redis_prefix(settings: dict[str, Any]) -> str:
    """Give one test its own Redis keys (user ids repeat across the per-test databases)."""
    prefix = f"tribune-test-{uuid.uuid4().hex[:12]}"
    settings["TRIBUNE_REDIS_PREFIX"] = prefix
    return prefix


def client_for(app: Flask, user: User) -> FlaskClient:
    """A new test client logged in as `user` (several people acting in one test)."""
    client = app.test_client()
    login(client, user)
    return client


@pytest.fixture
def own_redis_keys(request: pytest.FixtureRequest) -> None:
    """Give the test's app its own Redis key prefix, so flood memory and limits start empty."""
    if "app_settings" in request.fixturenames:
        unique_redis_prefix(request.getfixturevalue("app_settings"))


@pytest.fixture
def make_article(db: Session) -> Callable[..., Article]:
    """Create a committed article."""
    counter = itertools.count(1)

    def make(cms_id: str | None = None, **fields: Any) -> Article:
        number = next(counter)
        article = Article(cms_id=cms_id or f"artikel-{number}", title=f"Artikel {number}", **fields)
        db.add(article)
        db.commit()
        return article

    return make


def get_user(db: Session, username: str) -> User:
    # End the session's read transaction first: on SQLite it would keep seeing old rows.
    db.rollback()
    db.expire_all()
    user = db.scalar(select(User).where(User.username == username))
    assert user is not None
    return user


# ---------------------------------------------------------------- browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Any]:
    """One Playwright driver per run (sync Playwright cannot be started twice at once)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_service("Playwright for Python is not installed")
    if not os.access(CHROMIUM, os.X_OK):
        missing_service(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as driver:
        yield driver
