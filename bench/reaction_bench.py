"""Reaction benchmark: "Sterk" (POST /api/v1/comments/<id>/reactions) under `gunicorn -w 2`
against the bare insert+commit endpoint (bench/minimal_app.py) on the same database in the same
run, and the "beste" read of a 50-comment thread against Isso's thread read.

    .venv/bin/python bench/reaction_bench.py [--seconds 5] [--readers 400] [--per-reader 5]
                                             [--only sqlite|postgresql] [--no-isso]

Per backend (a fresh SQLite file in WAL; a throwaway PostgreSQL database on 127.0.0.1:5432):
50 comments by one author on one article, N readers each with an embed access token (the
comments embed's credential: a fan has no API token) and K distinct comments to react to;
wrk (bench/reactions.lua) sends every (token, comment) pair once, as the embed's
comments-write.js does (Bearer, no cookie, no body), rate limits on (Redis db 9 when it
answers). The reaction rate comes from the rows' own `created_at` stamps (first to last), as
bench/vote_bench.py does for ballots; the baseline is wrk's rate over a fixed -d. Then: rows ==
201 answers == the sum of comments.reaction_count.

Then, on the SQLite database (reactions in place): `GET /api/v1/articles/<id>/comments?
per_page=50&sort=beste` with the thread cache on (the default, 60 s) and off
(TRIBUNE_THREAD_CACHE_SECONDS=0: the ranking query on every request), against Isso's thread
read (`GET /?uri=`, ~50 comments) from its peer script ($ISSO_PEER, or the shared bench
directory's isso_peer.sh). Loopback only; a few seconds per scenario.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from vote_bench import (  # noqa: E402
    PG_ADMIN,
    WRK,
    Gunicorn,
    baseline_metadata,
    redis_up,
    run_wrk,
)

from db import make_engine  # noqa: E402
from migrations import upgrade_database  # noqa: E402
from models import (  # noqa: E402
    Article,
    Comment,
    CommentState,
    EmbedSession,
    EmbedVia,
    Reaction,
    User,
)

REDIS = "redis://127.0.0.1:6379/9"
GUARD_SECONDS = 60
COMMENTS = 50
# The peer harness is not part of Tribune: $ISSO_PEER, else the machine's shared bench directory
# beside the main checkout (/work/main) or beside a worktree's parent (/work/wt/<name>).
ISSO_PEER = Path(
    os.environ.get("ISSO_PEER")
    or next(
        (
            str(candidate)
            for candidate in (
                ROOT.parent / "shared/bench/isso_peer.sh",
                ROOT.parent.parent / "shared/bench/isso_peer.sh",
            )
            if candidate.exists()
        ),
        str(ROOT.parent / "shared/bench/isso_peer.sh"),
    )
)


def seed(url: str, readers: int) -> tuple[str, list[int], list[str]]:
    """An article with 50 comments (ages 0–49 h) by one author, and `readers` fans with live
    embed tokens (only their hashes stored, as the SSO exchange stores them)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    tokens = ["tre_" + secrets.token_urlsafe(32) for _ in range(readers)]
    with Session(engine) as session:
        rows = [
            {
                "username": f"lezer{i}",
                "username_key": f"lezer{i}",
                "email": f"lezer{i}@bench.test",
                "password_hash": "!bench",
                "password_login": False,
                "created_at": datetime(2025, 1, 1, tzinfo=UTC),
            }
            for i in range(readers + 1)
        ]
        session.execute(insert(User), rows)
        ids = dict(session.execute(select(User.username, User.id)).tuples().all())
        author = ids["lezer0"]
        article = Article(cms_id="bench-" + uuid.uuid4().hex[:8], title="Bench: Sterk")
        session.add(article)
        session.flush()
        comments = [
            Comment(
                article_id=article.id,
                author_id=author,
                body=f"Reactie {i} over de match van gisteren",
                state=CommentState.PUBLISHED,
                created_at=now - timedelta(hours=i),
                updated_at=now - timedelta(hours=i),
            )
            for i in range(COMMENTS)
        ]
        session.add_all(comments)
        session.execute(
            update_comment_count(article.id, COMMENTS)  # the article's tally, as posts keep it
        )
        session.execute(
            insert(EmbedSession),
            [
                {
                    "user_id": ids[f"lezer{i + 1}"],
                    "token_hash": hashlib.sha256(plain.encode()).hexdigest(),
                    "via": EmbedVia.SSO,
                    "session_version": 1,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for i, plain in enumerate(tokens)
            ],
        )
        session.commit()
        cms_id, comment_ids = article.cms_id, [c.id for c in comments]
    engine.dispose()
    return cms_id, comment_ids, tokens


def update_comment_count(article_id: int, count: int):  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    return update(Article).where(Article.id == article_id).values(comment_count=count)


def react_scenario(label: str, url: str, seconds: int, readers: int, per_reader: int) -> dict:
    print(f"\n== {label} ==", flush=True)
    cms_id, comment_ids, tokens = seed(url, readers)
    engine = make_engine(url)
    baseline_metadata.create_all(engine)
    base = Gunicorn("minimal_app:create_app()", {"DATABASE_URL": url}, ROOT / "bench")
    try:
        base_rate, base_status = run_wrk(
            f"http://127.0.0.1:{base.port}/write", seconds, ROOT / "bench" / "post.lua"
        )
    finally:
        base.stop()
    print(f"minimal insert+commit: {base_rate:.0f} req/s, 201={base_status.get('201')}")

    # Each reader its own K comments (a rotating window), the pairs shuffled across readers so
    # that concurrent requests hit the same comments' counters, as on a live thread.
    pairs = [
        (token, comment_ids[(r * 7 + k) % len(comment_ids)])
        for k in range(per_reader)
        for r, token in enumerate(tokens)
    ]
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
        for token, comment_id in pairs:
            handle.write(f"{token}\t{comment_id}\n")
        pair_file = handle.name
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "TRIBUNE_RATELIMIT_ENABLED": "true",
        "TRIBUNE_REDIS_PREFIX": "reactbench-" + uuid.uuid4().hex[:6],
    }
    if redis_up():
        env["REDIS_URL"] = REDIS
    tribune = Gunicorn("app:create_app()", env, ROOT)
    try:
        _, status = run_wrk(
            f"http://127.0.0.1:{tribune.port}/",
            GUARD_SECONDS,
            ROOT / "bench" / "reactions.lua",
            pair_file,
            "2",
        )
    finally:
        tribune.stop()
        os.unlink(pair_file)
    with Session(engine) as session:
        rows = session.scalar(
            select(func.count()).select_from(Reaction).where(Reaction.comment_id.in_(comment_ids))
        )
        counters = session.scalar(
            select(func.sum(Comment.reaction_count)).where(Comment.id.in_(comment_ids))
        )
        first, last = session.execute(
            select(func.min(Reaction.created_at), func.max(Reaction.created_at))
        ).one()
    engine.dispose()
    span = (last - first).total_seconds() if rows and rows > 1 else 0.0
    rate = (rows - 1) / span if span > 0 else 0.0
    # The counters must equal the rows whatever happened; every pair answered 201 only when
    # the run was not cut by the guard (then a few reactions were still in flight).
    ok = rows == counters
    complete = rows == status.get("201") == len(pairs)
    print(
        f"reactions: {rate:.0f}/s ({rows} rows in {span:.1f}s), 201={status.get('201')} "
        f"200={status.get('200')} other={status.get('other')}; rows={rows}, "
        f"sum(reaction_count)={counters}, pairs={len(pairs)}"
    )
    print(
        f"ratio to minimal endpoint: {100 * rate / base_rate:.0f}%  "
        f"(rows == counters: {'OK' if ok else 'MISMATCH'}; every pair answered 201: "
        f"{'yes' if complete else f'no, cut by the {GUARD_SECONDS} s guard'})"
    )
    if not ok:
        print("server log (errors):\n" + (tribune.errors() or "(empty)"))
    return {
        "label": label,
        "rate": rate,
        "base": base_rate,
        "ok": ok,
        "cms_id": cms_id,
    }


def read_scenario(url: str, cms_id: str, seconds: int, cache_seconds: str) -> float:
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "TRIBUNE_THREAD_CACHE_SECONDS": cache_seconds,
        "TRIBUNE_REDIS_PREFIX": "reactbench-" + uuid.uuid4().hex[:6],
    }
    if redis_up():
        env["REDIS_URL"] = REDIS
    tribune = Gunicorn("app:create_app()", env, ROOT)
    try:
        out = subprocess.run(
            [
                WRK,
                "-t2",
                "-c8",
                f"-d{seconds}s",
                f"http://127.0.0.1:{tribune.port}/api/v1/articles/{cms_id}/comments"
                "?per_page=50&sort=beste",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        tribune.stop()
    rate = float(out.split("Requests/sec:")[1].split()[0])
    non2xx = "Non-2xx" in out
    print(
        f"beste thread read (cache {cache_seconds} s): {rate:.0f} req/s"
        + (" (NON-2XX ANSWERS)" if non2xx else "")
    )
    return rate


def isso_thread(seconds: int) -> float | None:
    if not ISSO_PEER.exists():
        print(f"Isso peer script not found at {ISSO_PEER}")
        return None
    out = subprocess.run(
        ["bash", str(ISSO_PEER), str(seconds)], capture_output=True, text=True, timeout=900
    ).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[:2] == ["isso", "thread"]:
            print(f"Isso thread read: {parts[2]} req/s")
            return float(parts[2])
    print("Isso gave no thread figure:\n" + out[-1000:])
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--readers", type=int, default=400)
    parser.add_argument("--per-reader", type=int, default=5)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--no-isso", action="store_true")
    args = parser.parse_args()
    if not Path(WRK).exists():
        print("wrk is missing (apt-get install -y wrk)")
        return 2
    results = []
    reads: dict[str, float | None] = {}
    if args.only in (None, "sqlite"):
        tmp = Path(tempfile.mkdtemp(prefix="reactbench-"))
        url = f"sqlite:///{tmp / 'tribune.db'}"
        upgrade_database(url)
        try:
            result = react_scenario(
                "SQLite (WAL, synchronous=NORMAL)", url, args.seconds, args.readers,
                args.per_reader,
            )
            results.append(result)
            print("\n== beste: a 50-comment thread with its reactions ==")
            reads["cached"] = read_scenario(url, result["cms_id"], args.seconds, "60")
            reads["uncached"] = read_scenario(url, result["cms_id"], args.seconds, "0")
            reads["isso"] = None if args.no_isso else isso_thread(args.seconds)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.only in (None, "postgresql"):
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = "tribune_reactbench_" + uuid.uuid4().hex[:8]
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            upgrade_database(url)
            results.append(
                react_scenario(
                    "PostgreSQL (fsync on, synchronous_commit default)", url, args.seconds,
                    args.readers, args.per_reader,
                )
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("\nsummary:")
    for r in results:
        print(
            f"  {r['label']}: {r['rate']:.0f} reactions/s vs {r['base']:.0f} inserts/s = "
            f"{100 * r['rate'] / r['base']:.0f}% (goal >= 50%); counts "
            f"{'OK' if r['ok'] else 'MISMATCH'}"
        )
    if reads.get("isso"):
        isso = reads["isso"]
        for key in ("cached", "uncached"):
            value = reads.get(key)
            if value:
                print(
                    f"  beste thread read ({key}): {value:.0f} req/s = {value / isso:.1f}x "
                    f"Isso's {isso:.0f} (goal >= 10x)"
                )
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
