"""Tribune through a real PgBouncer in transaction mode, in front of the test database.

PgBouncer hands each transaction whichever server connection is free, so anything a client
leaves on "its" server connection between transactions is gone or foreign on the next:
psycopg's server-side prepared statements are (before PgBouncer 1.21's
max_prepared_statements). DATABASE_URL's `?prepare_threshold=none` turns them off (db.py,
docs/architecture.md "PgBouncer"). Skips when pgbouncer is not installed, except under
TRIBUNE_REQUIRE_SERVICES (CI installs it).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from app import create_app
from migrations import upgrade_database
from models import Article, Role
from tests.conftest import CHEAP_HASH, TEST_PASSWORD, _backend, login, missing_service
from tests.factories import CLEAN_TEXTS, ORIGIN
from tests.integrity import check_rows
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

POOL_SIZE = 3  # server connections per database: fewer than the app's client connections
THREADS = 8
ROUNDS = 8  # per thread: each statement runs far more often than psycopg's threshold (5)


def pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (path for path in ("/usr/sbin/pgbouncer",) if os.access(path, os.X_OK)), None
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def pgbouncer_version(binary: str) -> tuple[int, ...]:
    answer = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    found = re.search(r"PgBouncer (\d+)\.(\d+)", answer.stdout + answer.stderr)
    return tuple(int(part) for part in found.groups()) if found else (0, 0)


class PgBouncer:
    """One pgbouncer process in a temp dir, transaction pooling, trust auth, every database of
    the given PostgreSQL server (`* =`); run as the postgres user when we are root (pgbouncer
    refuses root)."""

    def __init__(self, binary: str, server_url: str, directory: Path) -> None:
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        server = make_url(server_url)
        self.user = server.username or "postgres"
        ini = [
            "[databases]",
            f"* = host={server.host or '127.0.0.1'} port={server.port or 5432}",
            "[pgbouncer]",
            "listen_addr = 127.0.0.1",
            f"listen_port = {self.port}",
            "unix_socket_dir =",
            "auth_type = trust",
            f"auth_file = {directory / 'userlist.txt'}",
            "pool_mode = transaction",
            f"default_pool_size = {POOL_SIZE}",
            "max_client_conn = 200",
            "server_round_robin = 0",
            f"logfile = {directory / 'pgbouncer.log'}",
            f"pidfile = {directory / 'pgbouncer.pid'}",
            # Sent by some clients at startup; PgBouncer refuses what it does not know.
            "ignore_startup_parameters = extra_float_digits,options",
        ]
        if pgbouncer_version(binary) >= (1, 21):
            # Newer PgBouncers can track prepared statements (1.22 on by default): off here, so
            # these tests check the psycopg side on every version.
            ini.append("max_prepared_statements = 0")
        (directory / "pgbouncer.ini").write_text("\n".join(ini) + "\n")
        (directory / "userlist.txt").write_text(f'"{self.user}" ""\n')
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, database: str, **query: str) -> str:
        """A Tribune DATABASE_URL for `database` through this PgBouncer."""
        url = make_url(f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}")
        return url.update_query_dict(query).render_as_string(hide_password=False)

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        prefix: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            for name in ("pgbouncer.ini", "userlist.txt"):
                shutil.chown(self.directory / name, "postgres")
            prefix = ["runuser", "-u", "postgres", "--"]
        self.process = subprocess.Popen(
            [*prefix, self.binary, str(self.directory / "pgbouncer.ini")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while True:
            with suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("pgbouncer did not start: " + self.log()[-500:])
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None:
            return
        # runuser passes SIGTERM on to pgbouncer, which closes its server connections.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(20)


@pytest.fixture
def pgbouncer(request: pytest.FixtureRequest) -> Iterator[PgBouncer]:
    binary = pgbouncer_binary()
    if binary is None:
        missing_service("pgbouncer is not installed (apt-get install pgbouncer)")
        raise AssertionError  # unreachable: missing_service skips or fails
    server = request.getfixturevalue("postgres_server")
    # Not under pytest's tmp_path: its parents are root's alone, pgbouncer runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="tribune-pgbouncer-"))
    bouncer = PgBouncer(binary, server.url, directory)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def database_name(request: pytest.FixtureRequest) -> Iterator[str]:
    """A migrated PostgreSQL database: the suite's own on a PostgreSQL run, else a throwaway."""
    if _backend() == "postgresql":
        yield make_url(request.getfixturevalue("database_url")).database or ""
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create("pgbouncer")
    upgrade_database(server.url_for(name))
    yield name
    server.drop(name)


@pytest.fixture
def bounced_app(
    pgbouncer: PgBouncer, database_name: str, app_settings: dict[str, Any]
) -> Iterator[Flask]:
    """Tribune on the test database through PgBouncer, prepared statements off."""
    url = pgbouncer.url(database_name, prepare_threshold="none")
    application = create_app({**app_settings, "DATABASE_URL": url})
    yield application
    application.extensions["tribune.engine"].dispose()


def test_transaction_pooling_breaks_psycopg_prepared_statements_and_the_option_avoids_it(
    pgbouncer: PgBouncer, database_name: str
) -> None:
    """Why the option exists: a statement psycopg prepared on one server connection is missing
    on the next transaction's; with the threshold none it runs as a plain statement."""

    def run(threshold: int | None) -> None:
        conninfo = make_url(pgbouncer.url(database_name)).set(drivername="postgresql")
        dsn = conninfo.render_as_string(hide_password=False)
        with (
            psycopg.connect(dsn, prepare_threshold=None) as holder,
            psycopg.connect(dsn, prepare_threshold=threshold) as client,
        ):
            holder.execute("SELECT 1")  # holds server connection A in its open transaction
            # (Had the holder prepared its own statement there under the same name, the client
            # would silently get the holder's answer: 1 instead of 2.)
            client.execute("SELECT 2").fetchone()  # server B (prepared there, at threshold 0)
            client.commit()
            holder.commit()  # A is released last: PgBouncer gives it out first (LIFO)
            assert client.execute("SELECT 2").fetchone() == (2,)
            client.commit()

    with pytest.raises(psycopg.errors.InvalidSqlStatementName):
        run(0)  # prepare at once: "prepared statement "_pg3_0" does not exist"
    run(None)


@contextmanager
def server_churn(pgbouncer: PgBouncer, database: str) -> Iterator[None]:
    """Other clients' short transactions meanwhile, so the app's transactions land on changing
    server connections (the app's own overlap alone, under the GIL, is too rare to count on)."""
    stop = threading.Event()
    dsn = make_url(pgbouncer.url(database)).set(drivername="postgresql")

    def churn() -> None:
        conninfo = dsn.render_as_string(hide_password=False)
        with psycopg.connect(conninfo, prepare_threshold=None) as conn:
            while not stop.is_set():
                conn.execute("SELECT pg_sleep(0.002)")
                conn.commit()

    churners = [threading.Thread(target=churn) for _ in range(POOL_SIZE - 1)]
    for thread in churners:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in churners:
            thread.join(timeout=30)


def test_votes_posts_and_reads_through_pgbouncer_keep_rows_and_counters(
    bounced_app: Flask, pgbouncer: PgBouncer, database_name: str
) -> None:
    """Concurrent votes (the autocommit statement), posts and thread reads, on more client
    connections than server connections: no error, every acknowledged write stored, counters
    equal their rows."""
    app = bounced_app
    session = app.extensions["tribune.sessionmaker"]()
    from accounts.services import Registration, register_user

    users = [
        register_user(
            session,
            Registration(f"bouncer{k}", f"bouncer{k}@example.test", TEST_PASSWORD),
            CHEAP_HASH,
            Role.FAN,
        )
        for k in range(THREADS)
    ]
    article = Article(cms_id="via-pgbouncer", title="Via PgBouncer")
    session.add(article)
    session.commit()
    poll = create_poll(session, article)
    options = option_ids(poll)
    session.close()

    statuses: list[int] = []
    vote_statuses: list[int] = []
    acknowledged_bodies: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS)
    comments_url = f"/api/v1/articles/{article.cms_id}/comments"

    def work(k: int) -> None:
        try:
            member = app.test_client()
            login(member, users[k])
            barrier.wait(timeout=60)
            for i in range(ROUNDS):
                reader = app.test_client()
                token = voter_token(reader, poll.id)
                voted = vote(reader, poll.id, [options[(k + i) % len(options)]], token)
                body = f"{CLEAN_TEXTS[(k + i) % len(CLEAN_TEXTS)]} (lezer {k}, ronde {i})"
                posted = member.post(comments_url, json={"body": body}, headers=ORIGIN)
                thread = reader.get(comments_url)
                page = reader.get(f"/artikels/{article.cms_id}")
                with lock:
                    vote_statuses.append(voted.status_code)
                    statuses.extend([voted.status_code, thread.status_code, page.status_code])
                    statuses.append(posted.status_code)
                    if posted.status_code in (201, 202):
                        acknowledged_bodies.append(body)
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
    with server_churn(pgbouncer, database_name):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)

    assert errors == [], errors[:3]
    assert not [s for s in statuses if s >= 500], sorted(set(statuses))
    votes_acknowledged = THREADS * ROUNDS
    assert vote_statuses == [201] * votes_acknowledged  # every voter is new
    assert len(acknowledged_bodies) >= THREADS  # flood rules may refuse some (429/422), not all
    assert "prepared statement" not in pgbouncer.log()

    check_session = app.extensions["tribune.sessionmaker"]()
    try:
        check_rows(check_session, poll.id, votes_acknowledged, acknowledged_bodies)
    finally:
        check_session.close()


@pytest.mark.parametrize(
    ("query", "threshold"),
    [("?prepare_threshold=none", None), ("?prepare_threshold=3&sslmode=disable", 3), ("", "unset")],
)
def test_the_url_option_reaches_psycopg_and_leaves_the_url(
    query: str, threshold: int | None | str
) -> None:
    from db import postgres_driver_options

    url, options = postgres_driver_options(f"postgresql+psycopg://u:pw@db:6432/tribune{query}")
    assert "prepare_threshold" not in url and "pw@db:6432/tribune" in url
    assert options == ({} if threshold == "unset" else {"prepare_threshold": threshold})


def test_a_threshold_that_is_not_a_number_stops_the_engine() -> None:
    from db import make_engine

    with pytest.raises(ValueError, match="prepare_threshold"):
        make_engine("postgresql+psycopg://u@db/tribune?prepare_threshold=soms")
