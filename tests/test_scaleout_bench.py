"""bench/scaleout.py in a tiny configuration (two instances behind nginx, PgBouncer, faults),
and the two small changes its first runs asked for: `prepare_threshold` in DATABASE_URL (for
PgBouncer in transaction mode) and psycopg's own connection errors answered as 503."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask

from app import create_app
from db import make_engine
from tests.conftest import PostgresServer, missing_service

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ("nginx", "pgbouncer", "initdb", "pg_ctl", "redis-server")


def test_scaleout_bench_tiny_run_meets_every_check() -> None:
    missing = [t for t in TOOLS if not shutil.which(t) and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        missing_service("bench/scaleout.py needs " + ", ".join(missing))
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scaleout.py"), "--quick", "--votes", "300",
         "--repeats", "30", "--comments", "60"],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    out = run.stdout
    assert run.returncode == 0, out[-4000:] + run.stderr[-2000:]
    # Every fault happened, and every check was printed and passed.
    for fault in ("SIGKILL of a gunicorn worker", "PostgreSQL restart", "Redis restart"):
        assert re.search(rf"\[ok\] {fault}: \d+ failed requests, recovered in", out), out
    assert "lost acknowledged votes: 0; voters with two rows: 0" in out
    assert re.search(r"ballot rows == acknowledged \+ committed-unanswered: (\d+) == ", out)
    assert "[ok] recount: 0 drift(s)" in out
    assert "-> shared" in out
    assert "[FAIL]" not in out
    assert re.search(r"ratio \d+\.\d+", out)


def test_prepare_threshold_in_the_url_reaches_psycopg_not_libpq(
    postgres_server: PostgresServer,
) -> None:
    engine = make_engine(postgres_server.url + "?prepare_threshold=none")
    assert "prepare_threshold" not in engine.url.query  # libpq would refuse the parameter
    with engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold is None  # type: ignore[union-attr]
    engine.dispose()
    engine = make_engine(postgres_server.url + "?prepare_threshold=2")
    with engine.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold == 2  # type: ignore[union-attr]
    engine.dispose()
    default = make_engine(postgres_server.url)
    with default.connect() as conn:
        assert conn.connection.driver_connection.prepare_threshold == 5  # type: ignore[union-attr]
    default.dispose()


def test_a_raw_psycopg_connection_error_answers_503_with_retry_after(
    app_settings: dict[str, Any],
) -> None:
    # The vote's statement runs on psycopg's own connection: behind PgBouncer during a
    # PostgreSQL restart its errors arrive unwrapped by SQLAlchemy (they were 500s).
    app: Flask = create_app(app_settings)

    @app.get("/api/v1/lost")
    def lost() -> str:
        raise psycopg.OperationalError("the connection is lost")

    @app.get("/verloren")
    def lost_page() -> str:
        raise psycopg.errors.ProtocolViolation("server login has been failing")

    api = app.test_client().get("/api/v1/lost")
    assert api.status_code == 503
    assert api.get_json()["error"]["code"] == "service_unavailable"
    assert api.headers["Retry-After"] == "5"
    page = app.test_client().get("/verloren")
    assert page.status_code == 503
    assert "niet bereikbaar" in page.get_data(as_text=True)
