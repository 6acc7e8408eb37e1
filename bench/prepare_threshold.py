"""What psycopg's server-side prepared statements are worth to Tribune, and what PgBouncer costs.

    .venv/bin/python bench/prepare_threshold.py [--requests 400]

On a throwaway database on 127.0.0.1:5432 (user postgres): votes (each a new voter) and
thread reads through the Flask test client in one process, for three DATABASE_URLs: direct
with psycopg's default threshold (5), direct with `?prepare_threshold=none`, and through a
PgBouncer in transaction mode (started here from tests/test_pgbouncer.py's helper) with
`none`. Prints milliseconds per request (wall, one thread). Loopback only.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from app import create_app  # noqa: E402
from migrations import upgrade_database  # noqa: E402
from models import Article  # noqa: E402
from tests.polls_fixtures import SAME_ORIGIN, create_poll, option_ids  # noqa: E402
from tests.test_pgbouncer import PgBouncer, pgbouncer_binary  # noqa: E402

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def run(url: str, requests: int, label: str) -> None:
    app = create_app(
        {
            "SECRET_KEY": "x",
            "DATABASE_URL": url,
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_RATELIMIT_ENABLED": False,
            "TRIBUNE_LOG_FORMAT": "text",
            "TRIBUNE_TALLY_CACHE_SECONDS": 0,
        }
    )
    session = app.extensions["tribune.sessionmaker"]()
    article = Article(cms_id=f"bench-{time.monotonic_ns()}", title="Bench")
    session.add(article)
    session.commit()
    poll = create_poll(session, article)
    options = option_ids(poll)
    session.close()
    client = app.test_client()
    tokens = []
    for _ in range(requests):
        answer = client.post(f"/api/v1/polls/{poll.id}/voter-token", json={}, headers=SAME_ORIGIN)
        tokens.append(answer.get_json()["voter_token"])
    started = time.perf_counter()
    for i, token in enumerate(tokens):
        answer = client.post(
            f"/api/v1/polls/{poll.id}/votes",
            json={"option_ids": [options[i % len(options)]]},
            headers={**SAME_ORIGIN, "X-Tribune-Voter-Token": token},
        )
        assert answer.status_code == 201, answer.get_data(as_text=True)
    votes = (time.perf_counter() - started) * 1000 / requests
    started = time.perf_counter()
    for _ in range(requests):
        assert client.get(f"/artikels/{article.cms_id}").status_code == 200
    pages = (time.perf_counter() - started) * 1000 / requests
    print(f"{label:<44} vote {votes:6.2f} ms   article page {pages:6.2f} ms")
    app.extensions["tribune.engine"].dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    name = f"tribune_prepare_{int(time.time())}"
    admin = create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    directory = Path(tempfile.mkdtemp(prefix="tribune-pgbouncer-"))
    binary = pgbouncer_binary()
    bouncer = PgBouncer(binary, SERVER, directory) if binary else None
    try:
        upgrade_database(direct)
        run(direct, args.requests, "direct, prepare_threshold 5 (psycopg default)")
        run(direct + "?prepare_threshold=none", args.requests, "direct, prepare_threshold none")
        if bouncer is None:
            print("pgbouncer is not installed: no PgBouncer figure")
        else:
            bouncer.start()
            run(bouncer.url(name, prepare_threshold="none"), args.requests, "PgBouncer, none")
    finally:
        if bouncer is not None:
            bouncer.stop()
        shutil.rmtree(directory, ignore_errors=True)
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
