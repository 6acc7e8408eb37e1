"""Capacity model: CPU milliseconds per request, measured under gunicorn, on SQLite and PostgreSQL.

    .venv/bin/python bench/capacity.py [--requests 400] [--only sqlite|postgresql]

For each database: a fresh, migrated, seeded database (SQLite: a temp file; PostgreSQL: a
throwaway cluster of its own, initdb on a free port, so its processes can be measured alone),
a throwaway redis-server, Tribune under gunicorn -c gunicorn.conf.py -w 2. For each request
kind it warms up, reads the CPU time (utime + stime from /proc/<pid>/stat) of the gunicorn
workers, of every PostgreSQL process and of redis-server, sends --requests requests from 4
client threads, reads them again, and prints the CPU milliseconds per request of each part:

  vote     POST /api/v1/polls/<id>/votes        (a new voter each time: 201)
  post     POST /api/v1/articles/<id>/comments  (embed access token, a new user each time)
  thread   GET  /api/v1/articles/<id>/comments?per_page=50   (a 50-comment thread; cached)
  tallies  GET  /api/v1/tallies?ids=<20 ids>    (a headline list; cached 3 s)
  article  GET  /artikels/<id>                  (the article page with its thread)
  embed    GET  /embed/comments/<id>            (the comments embed's page)

CPU time is per process, so the figures hold whatever else runs on the (shared) host; the
clock resolution is 10 ms per process (a few seconds of CPU per kind: under 1 %).
docs/capacity.md turns them into a cup-final sizing.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import scaleout  # noqa: E402
from scaleout import (  # noqa: E402
    EMBED_ORIGIN,
    SECRET,
    Child,
    Instance,
    NoDelayConnection,
    Postgres,
    free_port,
    start_redis,
    voter_token,
)

TICK = os.sysconf("SC_CLK_TCK")
CLIENT_THREADS = 4
KINDS = ("vote", "post", "thread", "tallies", "article", "embed")


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    return total / TICK


def children_of(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def postgres_pids(pg: Postgres) -> list[int]:
    master = int((pg.data / "postmaster.pid").read_text().split()[0])
    return [master, *children_of(master)]


Request = tuple[str, str, bytes | None, dict[str, str]]


def send(port: int, requests: list[Request]) -> tuple[Counter[int], float]:
    statuses: Counter[int] = Counter()
    queue = iter(requests)
    lock = threading.Lock()

    def worker() -> None:
        conn = NoDelayConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                item = next(queue, None)
            if item is None:
                break
            method, path, body, headers = item
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            with lock:
                statuses[response.status] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses, time.monotonic() - started


def request_makers(
    data: scaleout.Seed, thread_article: str, headlines: list[str], origin: str
) -> dict[str, Callable[[int], Request]]:
    poll_id, options = data.polls[0]
    users = iter(range(len(data.embed_tokens)))
    json_headers = {"Content-Type": "application/json"}

    def vote(i: int) -> Request:
        token = voter_token(poll_id, secrets.token_urlsafe(16))
        return (
            "POST",
            f"/api/v1/polls/{poll_id}/votes",
            json.dumps({"option_ids": [options[i % len(options)]]}).encode(),
            {**json_headers, "Origin": origin, "X-Tribune-Voter-Token": token},
        )

    def post(i: int) -> Request:
        user = next(users)
        body = f"Wat een match, {['Defour', 'Kompany', 'de spits'][i % 3]} was top. ({i})"
        return (
            "POST",
            f"/api/v1/articles/{data.article}/comments",
            json.dumps({"body": body}).encode(),
            {
                **json_headers,
                "Origin": EMBED_ORIGIN,
                "Authorization": "Bearer " + data.embed_tokens[user],
            },
        )

    ids = ",".join(headlines)
    return {
        "vote": vote,
        "post": post,
        "thread": lambda i: (
            "GET", f"/api/v1/articles/{thread_article}/comments?per_page=50", None, {}
        ),
        "tallies": lambda i: ("GET", f"/api/v1/tallies?ids={ids}", None, {}),
        "article": lambda i: ("GET", f"/artikels/{thread_article}", None, {}),
        "embed": lambda i: ("GET", f"/embed/comments/{thread_article}", None, {}),
    }  # fmt: skip


def seed_reading(url: str) -> tuple[str, list[str]]:
    """A 50-comment thread and 20 headline articles (for tallies)."""
    from sqlalchemy import select

    from app import create_app
    from db import session_scope
    from models import Article, Comment, CommentState, User
    from tallies.recount import recount

    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SECRET_KEY": SECRET})
    with session_scope(app) as session:
        authors = list(session.scalars(select(User.id).order_by(User.id).limit(50)))
        thread = Article(cms_id="finale-verslag", title="Verslag van de bekerfinale")
        session.add(thread)
        headlines = [Article(cms_id=f"kop-{i}", title=f"Kop {i}") for i in range(19)]
        session.add_all(headlines)
        session.flush()
        for i in range(50):
            session.add(
                Comment(
                    article_id=thread.id,
                    author_id=authors[i % len(authors)],
                    body=f"Reactie nummer {i} over Defour en KV Mechelen in de finale.",
                    state=CommentState.PUBLISHED,
                )
            )
        session.flush()
        recount(session)
    app.extensions["tribune.engine"].dispose()
    return "finale-verslag", ["finale-verslag", *(f"kop-{i}" for i in range(19))]


def measure(label: str, url: str, pg: Postgres | None, n: int, directory: Path) -> dict:
    print(f"\n== {label} ==", flush=True)
    data = scaleout.seed(url, 1, n + 60)
    thread_article, headlines = seed_reading(url)
    redis_port = free_port()
    redis = start_redis(directory, redis_port)
    children: list[Child] = [redis]
    results: dict[str, dict[str, Any]] = {}
    try:
        env = {
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": SECRET,
            "TRIBUNE_RATELIMIT_ENABLED": "true",
            "EMBED_ALLOWED_ORIGINS": EMBED_ORIGIN,
            # Every vote and post here comes from 127.0.0.1: per-IP limits would count them all
            # as one client (the per-user flood limit stays: one post per user).
            "TRIBUNE_VOTER_TOKEN_LIMIT": "100000 per minute",
        }
        instance = Instance(label.split()[0].lower(), directory, env)
        children.append(instance.child)
        origin = f"http://127.0.0.1:{instance.port}"
        makers = request_makers(data, thread_article, headlines, origin)
        print(f"{'kind':8} {'app ms':>7} {'db ms':>6} {'redis ms':>8} {'req/s':>6}  answers")
        for kind in KINDS:
            make = makers[kind]
            send(instance.port, [make(i) for i in range(min(30, n // 10))])  # warm-up
            workers = instance.workers()
            requests = [make(i) for i in range(n)]
            parts = {
                "app": lambda: cpu_seconds(instance.workers()),
                "db": (lambda: cpu_seconds(postgres_pids(pg))) if pg else (lambda: 0.0),
                "redis": lambda: cpu_seconds([redis.proc.pid]),
            }
            before = {k: f() for k, f in parts.items()}
            statuses, seconds = send(instance.port, requests)
            after = {k: f() for k, f in parts.items()}
            if instance.workers() != workers:
                print(f"  ({kind}: a worker was replaced during the run; its CPU is missing)")
            ms = {k: 1000 * (after[k] - before[k]) / n for k in parts}
            results[kind] = {**ms, "rate": n / seconds, "statuses": dict(statuses)}
            print(
                f"{kind:8} {ms['app']:7.2f} {ms['db']:6.2f} {ms['redis']:8.2f} "
                f"{n / seconds:6.0f}  " + " ".join(f"{s}={c}" for s, c in sorted(statuses.items())),
                flush=True,
            )
    finally:
        for child in reversed(children):
            child.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    print(
        f"gunicorn -w 2 (sync), {CLIENT_THREADS} client threads, {args.requests} requests per "
        f"kind; load average {os.getloadavg()[0]:.2f} (the host is shared: CPU time per process "
        "is what counts, not the rate)"
    )
    all_results: dict[str, dict] = {}
    directory = Path(tempfile.mkdtemp(prefix="tribune-capacity-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    try:
        if args.only in (None, "sqlite"):
            url = f"sqlite:///{directory / 'tribune.db'}"
            all_results["sqlite"] = measure("SQLite", url, None, args.requests, directory)
        if args.only in (None, "postgresql"):
            pg = Postgres(directory)
            pg.init()
            pg.start()
            try:
                from sqlalchemy import create_engine, text

                admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text('CREATE DATABASE "capacity"'))
                admin.dispose()
                all_results["postgresql"] = measure(
                    "PostgreSQL", pg.url("capacity"), pg, args.requests, directory
                )
            finally:
                pg.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print("\njson: " + json.dumps(all_results))
    bad = [
        (db, kind)
        for db, kinds in all_results.items()
        for kind, r in kinds.items()
        if any(not 200 <= int(s) < 300 for s in r["statuses"])
    ]
    if bad:
        print(f"requests that did not succeed: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
