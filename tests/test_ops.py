"""Operations: health and readiness, Prometheus metrics (one process and under gunicorn), the
/metrics guard, ProxyFix trust, request ids, the request log line, 503 + Retry-After and
recovery with Redis (and PostgreSQL) stopped and started on their own ports, backup + restore."""

from __future__ import annotations

import json
import logging
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import create_app
from config import SettingError
from models import Article, Ballot, Comment, CommentState, Role, User
from ops.backup import pg_dump_command
from ops.web import request_id
from tests.conftest import login, missing_service
from tests.factories import CLEAN, HOLD_TEXT, ORIGIN, REJECT_TEXT
from tests.polls_fixtures import create_poll, option_ids, vote, voter_token

ROOT = Path(__file__).resolve().parent.parent
REMOTE = "203.0.113.7"  # a documentation address: not loopback, not a configured network


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def scrape(client: FlaskClient, **options: Any) -> dict[tuple[str, tuple], float]:
    """GET /metrics as samples: {(name, sorted labels): value}."""
    response = client.get("/metrics", **options)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.content_type.startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


# ---------------------------------------------------------------- health and readiness


def test_healthz_answers_200_json_without_cookie_or_database(tmp_path: Path) -> None:
    # A database on a port nobody listens on: liveness does not care.
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
        }
    )
    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_is_200_with_every_part_ok(client: FlaskClient, app: Flask) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200, response.get_json()
    expected_redis = "ok" if app.config["REDIS_URL"] else "skipped"
    assert response.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "migrations": "ok", "redis": expected_redis},
    }
    assert "Set-Cookie" not in response.headers


@pytest.fixture
def schema_behind(db: Session) -> Iterator[None]:
    """The database says it is at an earlier revision (put back after: on PostgreSQL the
    scratch database outlives the test, and alembic_version is no model's table)."""
    head = db.scalar(text("SELECT version_num FROM alembic_version"))
    db.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    db.commit()
    yield
    db.rollback()
    db.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
    db.commit()


@pytest.mark.usefixtures("schema_behind")
def test_readyz_is_503_when_the_schema_is_not_at_head(client: FlaskClient) -> None:
    response = client.get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == "not_at_head"
    assert response.headers["Retry-After"] == "5"


def test_readyz_is_503_on_a_database_without_migrations(tmp_path: Path) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    )
    body = app.test_client().get("/readyz").get_json()

    assert body["failing"] == ["migrations"]
    assert body["checks"]["migrations"] == "not_migrated"


def test_readyz_names_an_unreachable_database_and_redis(tmp_path: Path) -> None:
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/nothing",
            "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        }
    )
    response = app.test_client().get("/readyz")

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["failing"] == ["database", "migrations", "redis"]
    assert body["checks"]["database"] == "unreachable"
    assert body["checks"]["redis"] == "unreachable"


# ---------------------------------------------------------------- metrics


def test_metrics_count_requests_by_route_votes_and_comments_by_decision(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    poll = create_poll(db, article)
    before = scrape(client)

    assert client.get(f"/artikels/{article.cms_id}").status_code == 200
    assert client.get("/bestaat/niet").status_code == 404
    assert client.open("/healthz", method="BREW").status_code == 405  # any token is a method
    anonymous = app.test_client()
    token = voter_token(anonymous, poll.id)
    assert vote(anonymous, poll.id, option_ids(poll)[:1], token).status_code == 201
    assert vote(anonymous, poll.id, option_ids(poll)[:1], token).status_code == 200  # a repeat
    login(client, make_user(Role.FAN))
    url = f"/api/v1/articles/{article.cms_id}/comments"
    assert client.post(url, json={"body": CLEAN}, headers=ORIGIN).status_code == 201
    assert client.post(url, json={"body": HOLD_TEXT}, headers=ORIGIN).status_code == 202
    assert client.post(url, json={"body": REJECT_TEXT}, headers=ORIGIN).status_code == 422
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    article_page = {"route": "/artikels/<article_id>", "method": "GET"}
    assert grew("tribune_http_requests_total", status="200", **article_page) == 1
    assert grew("tribune_http_request_duration_seconds_count", **article_page) == 1
    assert grew("tribune_http_request_duration_seconds_bucket", le="+Inf", **article_page) == 1
    unmatched = {"route": "<unmatched>", "method": "GET", "status": "404"}
    assert grew("tribune_http_requests_total", **unmatched) == 1
    assert not any("/bestaat/niet" in str(labels) for _, labels in after)  # never a raw path
    other = {"route": "<unmatched>", "method": "OTHER", "status": "405"}
    assert grew("tribune_http_requests_total", **other) == 1
    assert not any("BREW" in str(labels) for _, labels in after)
    assert grew("tribune_votes_cast_total") == 1
    assert grew("tribune_comments_posted_total", decision="published") == 1
    assert grew("tribune_comments_posted_total", decision="held") == 1
    assert grew("tribune_comments_posted_total", decision="rejected") == 1
    # Read from the rows at scrape time.
    assert value(after, "tribune_database_up") == 1
    assert value(after, "tribune_moderation_queue_size", queue="held") == 1
    assert value(after, "tribune_moderation_oldest_wait_seconds") >= 0
    assert ("tribune_moderation_oldest_wait_seconds", ()) in after
    assert ("tribune_outbox_backlog", (("state", "pending"),)) in after
    assert ("tribune_db_pool_checked_out", ()) in after


def test_a_rolled_back_comment_is_not_counted(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    from comments import services as comments
    from comments.activity import MemoryActivity
    from moderation.rules import PostingPolicy
    from moderation.screening import screen

    article, author = make_article(), make_user(Role.FAN)

    def published() -> float | None:
        return REGISTRY.get_sample_value("tribune_comments_posted_total", {"decision": "published"})

    def post(body: str) -> None:
        comments.post_comment(
            db, article.cms_id, author, body, None, screen, PostingPolicy(), MemoryActivity()
        )

    before = published()
    post(CLEAN)
    db.rollback()
    assert published() == before
    post(CLEAN)
    db.commit()
    assert published() == (before or 0) + 1


def test_metrics_open_to_configured_networks_or_the_token(
    app_settings: dict[str, Any],
) -> None:
    app_settings["TRIBUNE_METRICS_TOKEN"] = "s3cret-scrape"
    app_settings["TRIBUNE_METRICS_NETWORKS"] = "127.0.0.0/8, ::1 10.20.0.0/16"
    client = create_app(app_settings).test_client()

    def status(address: str, **headers: str) -> int:
        return client.get(
            "/metrics", environ_base={"REMOTE_ADDR": address}, headers=headers
        ).status_code

    assert status("127.0.0.1") == 200
    assert status("::1") == 200
    assert status("10.20.3.4") == 200
    assert status(REMOTE) == 403
    assert status("10.21.0.1") == 403
    assert status(REMOTE, Authorization="Bearer s3cret-scrape") == 200
    assert status(REMOTE, Authorization="Bearer wrong") == 403
    assert status(REMOTE, Authorization="s3cret-scrape") == 403


def test_metrics_networks_that_do_not_parse_stop_the_app(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_METRICS_NETWORKS"] = "10.0.0.0/8 intranet"
    with pytest.raises(SettingError, match="TRIBUNE_METRICS_NETWORKS"):
        create_app(app_settings)


# ---------------------------------------------------------------- proxies and request ids


@pytest.mark.parametrize(
    ("hops", "peer", "forwarded", "allowed"),
    [
        # No trusted proxy: X-Forwarded-For is ignored, so it cannot be spoofed.
        pytest.param(0, REMOTE, "127.0.0.1", False, id="untrusted-spoof-refused"),
        pytest.param(0, "127.0.0.1", REMOTE, True, id="untrusted-peer-counts"),
        # One trusted hop (nginx on loopback): the address nginx appended is the client's.
        pytest.param(1, "127.0.0.1", REMOTE, False, id="trusted-client-behind-nginx"),
        pytest.param(1, "127.0.0.1", f"127.0.0.9, {REMOTE}", False, id="trusted-only-last-hop"),
        pytest.param(1, "127.0.0.1", "127.0.0.5", True, id="trusted-loopback-client"),
    ],
)
def test_client_address_follows_the_trusted_hops_only(
    app_settings: dict[str, Any], hops: int, peer: str, forwarded: str, allowed: bool
) -> None:
    app_settings["TRIBUNE_TRUSTED_PROXIES"] = hops
    client = create_app(app_settings).test_client()

    response = client.get(
        "/metrics", environ_base={"REMOTE_ADDR": peer}, headers={"X-Forwarded-For": forwarded}
    )

    assert response.status_code == (200 if allowed else 403)


def test_scheme_follows_x_forwarded_proto_only_through_a_trusted_hop(
    app_settings: dict[str, Any],
) -> None:
    for hops, secure in ((0, False), (1, True)):
        app_settings["TRIBUNE_TRUSTED_PROXIES"] = hops
        client = create_app(app_settings).test_client()
        response = client.get("/login", headers={"X-Forwarded-Proto": "https"})
        assert ("Strict-Transport-Security" in response.headers) is secure


@pytest.mark.parametrize(
    ("hops", "given", "echoed"),
    [
        pytest.param(1, "3f2a9c1e5b7d4e0fa1b2c3d4e5f60718", True, id="trusted-nginx-id"),
        pytest.param(1, "req-2026.12.07:42", True, id="trusted-token"),
        pytest.param(0, "3f2a9c1e5b7d4e0fa1b2c3d4e5f60718", False, id="untrusted"),
        pytest.param(1, "bad id", False, id="space"),
        pytest.param(1, "x" * 129, False, id="too-long"),
        pytest.param(1, "<script>", False, id="markup"),
    ],
)
def test_request_id_is_taken_when_trusted_and_well_formed_else_generated(
    app_settings: dict[str, Any], hops: int, given: str, echoed: bool
) -> None:
    app_settings["TRIBUNE_TRUSTED_PROXIES"] = hops
    client = create_app(app_settings).test_client()

    answered = client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"]

    if echoed:
        assert answered == given
    else:
        assert answered != given
        assert len(answered) == 32 and int(answered, 16) >= 0
    # Every answer has one, also without the header.
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def request_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("tribune.requests")
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)


def test_json_log_line_per_request_holds_no_personal_data(
    app_settings: dict[str, Any], request_lines: list[str], db: Session
) -> None:
    app_settings.update(TRIBUNE_LOG_FORMAT="json", TRIBUNE_TRUSTED_PROXIES=1)
    app = create_app(app_settings)
    client = app.test_client()
    email, password, ip = "jan.peeters@example.be", "geheim-wachtwoord-123", "198.51.100.23"

    client.post(
        "/login?email=" + email,
        data={"login": email, "password": password},
        headers={"X-Forwarded-For": ip, "X-Request-ID": "trace-0001"},
    )
    client.get(f"/zoeken?q={email}", environ_base={"REMOTE_ADDR": ip})

    assert len(request_lines) == 2
    first = json.loads(request_lines[0])
    assert set(first) == {"event", "time", "request_id", "method", "route", "status", "duration_ms"}
    assert first["request_id"] == "trace-0001"
    assert (first["method"], first["route"]) == ("POST", "/login")
    assert isinstance(first["status"], int) and isinstance(first["duration_ms"], float)
    assert json.loads(request_lines[1])["route"] == "<unmatched>"
    for line in request_lines:
        for secret in (email, "jan.peeters", password, ip, "198.51.100", "zoeken"):
            assert secret not in line


def test_json_mode_writes_the_apps_own_warnings_as_json(
    app_settings: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    app_settings["TRIBUNE_LOG_FORMAT"] = "json"
    app = create_app(app_settings)
    with app.test_request_context("/"):
        g_id = request_id()
        try:
            raise RuntimeError("kapot")
        except RuntimeError:
            app.logger.exception("iets ging mis")

    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["level"] == "error" and line["message"] == "iets ging mis"
    assert line["request_id"] == g_id
    assert "RuntimeError: kapot" in line["exception"]


def test_text_log_line_is_key_value(app_settings: dict[str, Any], request_lines: list[str]) -> None:
    create_app(app_settings).test_client().get("/healthz")

    assert len(request_lines) == 1
    assert " method=GET route=/healthz status=200 duration_ms=" in request_lines[0]


def test_an_unknown_log_format_stops_the_app(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_LOG_FORMAT"] = "xml"
    with pytest.raises(SettingError, match="TRIBUNE_LOG_FORMAT"):
        create_app(app_settings)


# ---------------------------------------------------------------- Redis down, and back


class ThrowawayRedis:
    """A redis-server of this test alone, on a free port, that the test stops and starts."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)
            self.process = None


@pytest.fixture
def throwaway_redis(tmp_path: Path) -> Iterator[ThrowawayRedis]:
    if shutil.which("redis-server") is None:
        missing_service("redis-server is not installed")
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def test_redis_down_gives_503_with_retry_after_and_recovers_without_restart(
    app_settings: dict[str, Any],
    throwaway_redis: ThrowawayRedis,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    app_settings.update(
        REDIS_URL=throwaway_redis.url,
        RATELIMIT_STORAGE_URI=throwaway_redis.url,
        TRIBUNE_RATELIMIT_ENABLED=True,
        TRIBUNE_FLOOD_LIMIT=100,
        TRIBUNE_LOGIN_LIMIT_IP="2 per minute",
    )
    app = create_app(app_settings)
    client = app.test_client()
    article, fan = make_article(), make_user(Role.FAN)
    login(client, fan)
    api_url = f"/api/v1/articles/{article.cms_id}/comments"
    assert client.post(api_url, json={"body": CLEAN}, headers=ORIGIN).status_code == 201
    assert client.get("/readyz").get_json()["checks"]["redis"] == "ok"
    errors_before = value(scrape(client), "tribune_redis_errors_total", operation="evalsha")

    throwaway_redis.stop()

    # The API: JSON error shape, 503, Retry-After (flood memory fails closed).
    answer = client.post(api_url, json={"body": CLEAN + " Nog eens."}, headers=ORIGIN)
    assert answer.status_code == 503
    assert answer.get_json()["error"]["code"] == "service_unavailable"
    assert answer.headers["Retry-After"] == "5"
    # A page: the Dutch error page, same status and header.
    page = client.post(f"/artikels/{article.cms_id}/reacties", data={"body": CLEAN + " Pagina."})
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "niet bereikbaar" in page.get_data(as_text=True)
    # Rate limits go on in this worker's memory: sign-in works, and is still limited.
    failed = [
        app.test_client().post("/login", data={"login": "x", "password": "y"}).status_code
        for _ in range(3)
    ]
    assert failed == [200, 200, 429]
    # Caches are bypassed: reading the article still works.
    assert client.get(f"/artikels/{article.cms_id}").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failing"] == ["redis"]
    errors_during = value(scrape(client), "tribune_redis_errors_total", operation="evalsha")
    assert errors_during > errors_before
    with app.app_context():
        db_session = app.extensions["tribune.sessionmaker"]()
        stored = db_session.scalar(select(func.count()).select_from(Comment))
        db_session.close()
    assert stored == 1  # nothing half-written by the refused posts

    throwaway_redis.start()  # same port, empty: the app was not restarted

    assert client.get("/readyz").status_code == 200
    again = client.post(api_url, json={"body": CLEAN + " Terug."}, headers=ORIGIN)
    assert again.status_code == 201, again.get_json()
    # The limiter goes back to Redis at its next check (after at most 32 s; here a few):
    # counted there again, the memory's count is left behind.
    back = redis.Redis.from_url(throwaway_redis.url)
    deadline = time.monotonic() + 20
    while not back.keys(app_settings["RATELIMIT_KEY_PREFIX"] + "*"):
        assert time.monotonic() < deadline, "the limiter did not go back to Redis"
        app.test_client().post("/login", data={"login": "z", "password": "y"})
        time.sleep(0.25)


# ---------------------------------------------------------------- PostgreSQL down, and back


class ThrowawayPostgres:
    """A PostgreSQL cluster of this test alone (initdb in a temp dir, its own port), run as
    the postgres user; the test stops and starts it."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.data = directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            [*prefix, *command], check=True, capture_output=True, timeout=60, cwd=self.directory
        )

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "server.log")  # the server must not hold our pipes open
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "-t", "30", "start"
        )

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    if shutil.which("initdb") is None or shutil.which("pg_ctl") is None:
        missing_service("initdb/pg_ctl are not installed")
    # Not under pytest's tmp_path: its parents are root's alone, the cluster runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="tribune-pg-"))
    server = ThrowawayPostgres(directory)
    try:
        server.init()
        server.start()
    except (subprocess.CalledProcessError, OSError) as exc:
        stderr = getattr(exc, "stderr", b"") or b""
        shutil.rmtree(directory, ignore_errors=True)
        missing_service(f"no throwaway PostgreSQL cluster here: {exc} {stderr.decode()[-300:]}")
    yield server
    with suppress(subprocess.CalledProcessError):
        server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def test_postgres_restart_gives_503_with_retry_after_and_recovers_without_restart(
    throwaway_postgres: ThrowawayPostgres, tmp_path: Path
) -> None:
    from migrations import upgrade_database

    upgrade_database(throwaway_postgres.url)
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": throwaway_postgres.url,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_MAIL_DIRECTORY": str(tmp_path / "mail"),
            "TRIBUNE_TALLY_CACHE_SECONDS": 0,  # (a cached answer would still be served)
        }
    )
    client = app.test_client()
    with app.app_context():
        session = app.extensions["tribune.sessionmaker"]()
        session.add(Article(cms_id="finale", title="Bekerfinale"))
        session.commit()
        session.close()
    assert client.get("/artikels/finale").status_code == 200  # the pool holds a connection
    assert client.get("/api/v1/tallies?ids=finale").status_code == 200

    throwaway_postgres.stop()

    api = client.get("/api/v1/tallies?ids=finale")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "service_unavailable"
    assert api.headers["Retry-After"] == "5"
    page = client.get("/artikels/finale")
    assert page.status_code == 503
    assert "niet bereikbaar" in page.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["failing"] == ["database", "migrations"]

    throwaway_postgres.start()

    assert client.get("/artikels/finale").status_code == 200
    assert client.get("/api/v1/tallies?ids=finale").status_code == 200
    assert client.get("/readyz").status_code == 200
    app.extensions["tribune.engine"].dispose()


# ---------------------------------------------------------------- gunicorn, multiprocess


def test_gunicorn_workers_share_their_metrics_through_the_multiprocess_directory(
    database_url: str, tmp_path: Path
) -> None:
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"stale")  # an earlier run's: cleared
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "x",
        "TRIBUNE_RATELIMIT_ENABLED": "false",
        "TRIBUNE_MAIL_DIRECTORY": str(tmp_path / "mail"),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "WEB_CONCURRENCY": "2",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
            "--bind", f"127.0.0.1:{port}", "app:create_app()",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )  # fmt: skip
    import urllib.request

    def get(path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as answer:
            return answer.status, answer.read().decode()

    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("/readyz")
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        # Hold one sync worker on a request whose headers have not ended: the other worker
        # answers the next five; then the first finishes its own. Each worker counted part.
        held = socket.create_connection(("127.0.0.1", port), timeout=30)
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n")
        time.sleep(0.5)
        for _ in range(5):
            get("/healthz")
        held.sendall(b"Connection: close\r\n\r\n")
        assert held.recv(100).startswith(b"HTTP/1.1 200")
        held.close()
        status, body = get("/metrics")
        pids = {p.name.split("_")[-1] for p in metrics_dir.glob("counter_*.db")}
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        log.close()

    assert status == 200
    assert len(pids) == 2 and "999999" not in pids
    healthz = [
        sample
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if sample.name == "tribune_http_requests_total"
        and sample.labels == {"route": "/healthz", "method": "GET", "status": "200"}
    ]
    # 1 + 5 from two processes: one worker's files alone would say 1 or 5.
    assert len(healthz) == 1 and healthz[0].value == 6, (tmp_path / "gunicorn.log").read_text()


# ---------------------------------------------------------------- backup and restore


def sqlite_app(path: Path, tmp_path: Path) -> Flask:
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "x",
            "DATABASE_URL": f"sqlite:///{path}",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_PASSWORD_METHOD": "pbkdf2:sha256:1",
            "TRIBUNE_MAIL_DIRECTORY": str(tmp_path / "mail"),
        }
    )


def counts(app: Flask) -> tuple[int, int, int]:
    with app.extensions["tribune.sessionmaker"]() as session:
        return (
            session.scalar(select(func.count()).select_from(Comment)) or 0,
            session.scalar(select(func.count()).select_from(Ballot)) or 0,
            session.scalar(
                select(func.count()).select_from(Comment).where(Comment.state == CommentState.HELD)
            )
            or 0,
        )


def test_backup_restore_into_a_fresh_file_and_recount_finds_no_drift(tmp_path: Path) -> None:
    source = sqlite_app(tmp_path / "live.db", tmp_path)
    runner = source.test_cli_runner()
    assert runner.invoke(args=["tribune", "migrate"]).exit_code == 0
    seeded = runner.invoke(args=["tribune", "seed-demo"])
    assert seeded.exit_code == 0, seeded.output
    backup = tmp_path / "backup.db"

    made = runner.invoke(args=["tribune", "backup", str(backup)])

    assert made.exit_code == 0, made.output
    assert backup.stat().st_mode & 0o777 == 0o600
    again = runner.invoke(args=["tribune", "backup", str(backup)])
    assert again.exit_code != 0 and "--force" in again.output

    fresh = sqlite_app(tmp_path / "fresh.db", tmp_path)
    restored = fresh.test_cli_runner().invoke(args=["tribune", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    recounted = fresh.test_cli_runner().invoke(args=["tribune", "recount"])
    assert recounted.exit_code == 0
    assert recounted.output.strip() == "Alle tellers kloppen."
    assert counts(fresh) == counts(source)
    assert counts(fresh)[0] > 1000 and counts(fresh)[1] > 1000
    assert fresh.test_client().get("/readyz").status_code == 200

    # A database with data is not overwritten without --force; with it, it is.
    refused = fresh.test_cli_runner().invoke(args=["tribune", "restore", str(backup)])
    assert refused.exit_code != 0 and "--force" in refused.output
    forced = fresh.test_cli_runner().invoke(args=["tribune", "restore", "--force", str(backup)])
    assert forced.exit_code == 0, forced.output
    source.extensions["tribune.engine"].dispose()
    fresh.extensions["tribune.engine"].dispose()


def test_restore_refuses_a_file_that_is_not_a_tribune_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"dit is geen databank" * 100)
    app = sqlite_app(tmp_path / "fresh.db", tmp_path)

    result = app.test_cli_runner().invoke(args=["tribune", "restore", str(junk)])

    assert result.exit_code != 0
    assert "geen SQLite-databank" in result.output


def test_postgres_backup_prints_pg_dump_without_the_password(tmp_path: Path) -> None:
    url = "postgresql://tribune:s3cret-pw@db.example.be:5433/tribune"
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": url})

    result = app.test_cli_runner().invoke(args=["tribune", "backup", str(tmp_path / "t.dump")])

    assert result.exit_code == 0
    assert "s3cret-pw" not in result.output
    assert (
        "pg_dump --format=custom --no-owner --host db.example.be --port 5433 "
        f"--username tribune --file {tmp_path / 't.dump'} tribune"
    ) in result.output
    restore = app.test_cli_runner().invoke(args=["tribune", "restore", str(tmp_path / "t.dump")])
    assert "pg_restore" in restore.output and "s3cret-pw" not in restore.output
    assert pg_dump_command(url, Path("x")).startswith("pg_dump ")


def test_postgres_backup_and_restore_commands_round_trip_with_no_drift(
    request: pytest.FixtureRequest, app: Flask, tmp_path: Path
) -> None:
    """On PostgreSQL (a throwaway database, in both suites): run the printed pg_dump command,
    restore with the printed pg_restore command into an empty database, and recount there."""
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        missing_service("pg_dump/pg_restore are not installed")
    server = request.getfixturevalue("postgres_server")
    source = server.create("backup_source")
    source_app = create_app(
        {**app.config, "DATABASE_URL": server.url_for(source), "TESTING": True}
    )
    runner = source_app.test_cli_runner()
    assert runner.invoke(args=["tribune", "migrate"]).exit_code == 0
    assert runner.invoke(args=["tribune", "seed-demo"]).exit_code == 0
    dump = tmp_path / "tribune.dump"

    printed = runner.invoke(args=["tribune", "backup", str(dump)]).output.splitlines()[-1]
    subprocess.run(shlex.split(printed), check=True, capture_output=True, timeout=120)
    target = server.create("restored")
    restored_app = create_app(
        {**app.config, "DATABASE_URL": server.url_for(target), "TESTING": True}
    )
    restored_runner = restored_app.test_cli_runner()
    printed = restored_runner.invoke(args=["tribune", "restore", str(dump)]).output.splitlines()
    subprocess.run(shlex.split(printed[-1]), check=True, capture_output=True, timeout=120)

    recounted = restored_runner.invoke(args=["tribune", "recount"])
    assert recounted.output.strip() == "Alle tellers kloppen."
    assert counts(restored_app) == counts(source_app)
    assert counts(restored_app)[1] > 1000
    assert restored_app.test_client().get("/readyz").status_code == 200
    for used in (source_app, restored_app):
        used.extensions["tribune.engine"].dispose()
    server.drop(target)
    server.drop(source)


def test_a_failed_statement_logs_no_values(tmp_path: Path) -> None:
    """An error's message (logged with its traceback) leaves out the statement's values."""
    from sqlalchemy.exc import OperationalError

    from db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(OperationalError) as failed, engine.connect() as connection:
        connection.execute(text("SELECT * FROM nowhere WHERE email = :e"), {"e": "jan@example.be"})
    assert "jan@example.be" not in str(failed.value)
    assert "hidden" in str(failed.value)
    engine.dispose()


@pytest.mark.parametrize(
    ("database", "redis_url", "warned"),
    [
        ("postgresql://postgres@127.0.0.1:{port}/nothing", "", True),
        ("postgresql://postgres@127.0.0.1:{port}/nothing", "redis://127.0.0.1:{port}/0", False),
        ("sqlite:///{tmp}/one.db", "", False),
    ],
)
def test_postgresql_without_redis_says_what_the_workers_do_not_share(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, database: str, redis_url: str, warned: bool
) -> None:
    port = free_port()
    with caplog.at_level(logging.WARNING):
        create_app(
            {
                "TESTING": True,
                "SECRET_KEY": "x",
                "DATABASE_URL": database.format(port=port, tmp=tmp_path),
                "REDIS_URL": redis_url.format(port=port),
            }
        )

    said = [r.getMessage() for r in caplog.records if "REDIS_URL is not set" in r.getMessage()]
    assert bool(said) is warned
    if warned:
        assert "rate limits" in said[0] and "flood" in said[0]
