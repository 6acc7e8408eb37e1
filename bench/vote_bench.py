"""Vote benchmark: Tribune's POST /api/v1/polls/<id>/votes under `gunicorn -w 2`, against a
minimal Flask endpoint that inserts and commits one row on the same database, in the same run.

    .venv/bin/python bench/vote_bench.py [--seconds 5] [--tokens 1500] [--only sqlite|postgresql]
        [--ratings]

--ratings: a player_ratings poll (11 starters and the coach) instead of a choice poll; each
request is a full rating set of the 11 players (POST /api/v1/polls/<id>/ratings, bench/
ratings.lua), and after the run the ratings rows must equal the players' counters too.

For SQLite (a fresh file; WAL, synchronous=NORMAL as db.py sets) and PostgreSQL (a throwaway
database on 127.0.0.1:5432, user postgres): pre-issues N distinct voter tokens through the real
endpoint, each from its own client IP (X-Forwarded-For, TRIBUNE_TRUSTED_PROXIES=1, rate limits
on, on Redis when it answers), runs wrk with bench/votes.lua rotating tokens and IPs, prints
votes/s and the ratio to the baseline, and checks ballot rows == the number of 201 answers.
Loopback only; a few seconds per scenario.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from db import make_engine  # noqa: E402
from migrations import upgrade_database  # noqa: E402
from models import Article, Ballot, PlayerRating, Poll, PollKind, PollPlayer  # noqa: E402
from polls.ratings import true_player_counters  # noqa: E402
from polls.services import PollDraft  # noqa: E402
from polls.services import create_poll as create_any_poll  # noqa: E402
from tests.polls_fixtures import create_poll  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from minimal_app import metadata as baseline_metadata  # noqa: E402

BIN = Path(sys.executable).parent
WRK = shutil.which("wrk") or "/usr/bin/wrk"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS = os.environ.get("VB_REDIS_URL", "redis://127.0.0.1:6379/14")  # a helper's own db
VOTE_GUARD_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def redis_up() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
        return True
    except Exception:
        return False


class Gunicorn:
    """gunicorn -w 2 on 127.0.0.1; stopped by its own pid."""

    def __init__(self, target: str, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        # Its error log is kept, to be shown when a run's counts do not add up.
        self.log = tempfile.NamedTemporaryFile("w+", prefix="vb-gunicorn-", suffix=".log")  # noqa: SIM115 (lives as long as the server)
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                "2",
                "-b",
                f"127.0.0.1:{self.port}",
                "--access-logfile",
                os.environ.get("VB_ACCESS", "/dev/null"),
                "--access-logformat",
                "%(U)s %(s)s %(L)s %(b)s",
                "--log-level",
                "warning",
                target,
            ],
            cwd=cwd,
            env={**os.environ, **env},
            start_new_session=True,
            stderr=self.log,
        )
        wait_port(self.port)

    def errors(self) -> str:
        self.log.seek(0)
        lines = [line for line in self.log.read().splitlines() if "was sent SIGTERM" not in line]
        return "\n".join(lines[-40:])

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=20)


def run_wrk(url: str, seconds: int, script: Path, *args: str) -> tuple[float, dict[str, int]]:
    out = subprocess.run(
        [
            WRK,
            "-t2",
            "-c8",
            "--timeout",
            "30s",
            f"-d{seconds}s",
            "-s",
            str(script),
            url,
            "--",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    status = dict(
        (k, int(v)) for k, v in re.findall(r"(\d{3}|other)=(\d+)", out.split("STATUS", 1)[1])
    )
    # Connection-level failures get no HTTP status, so the Lua counters never see them.
    errors = re.search(r"Socket errors: (.*)", out)
    if errors:
        status["socket_errors"] = errors.group(1)  # type: ignore[assignment]
    return rate, status


class NoDelayConnection(http.client.HTTPConnection):
    """http.client sends headers and body in two writes: without TCP_NODELAY every POST waits
    for the delayed ACK (~40 ms) and the token issuance would measure the client, not us."""

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def issue_tokens(port: int, poll_id: int, count: int) -> list[tuple[str, str]]:
    """Real voter tokens from the endpoint, one client IP each."""

    def ip(i: int) -> str:
        return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{(i & 255) or 1}"

    def batch(indices: range) -> list[tuple[str, str]]:
        conn = NoDelayConnection("127.0.0.1", port, timeout=10)
        got = []
        for i in indices:
            conn.request(
                "POST",
                f"/api/v1/polls/{poll_id}/voter-token",
                body="{}",
                headers={
                    "Content-Type": "application/json",
                    "Origin": f"http://127.0.0.1:{port}",
                    "X-Forwarded-For": ip(i),
                },
            )
            response = conn.getresponse()
            body = response.read()
            if response.status != 201:
                raise RuntimeError(f"token {i}: {response.status} {body[:200]!r}")
            got.append((json.loads(body)["voter_token"], ip(i)))
        conn.close()
        return got

    step = max(1, count // 16)
    with ThreadPoolExecutor(16) as pool:
        parts = pool.map(batch, [range(s, min(s + step, count)) for s in range(0, count, step)])
    return [pair for part in parts for pair in part]


ELEVEN = [{"name": f"Speler {n}", "shirt_number": n} for n in range(1, 12)]


def players_match_rows(session: Session, poll_id: int) -> tuple[int, bool]:
    """The poll's rating rows, and whether every player's counters equal its rows."""
    rows = session.scalar(
        select(func.count())
        .select_from(PlayerRating)
        .join(Ballot, Ballot.id == PlayerRating.ballot_id)
        .where(Ballot.poll_id == poll_id)
    )
    actual = true_player_counters(session, [poll_id])
    same = True
    for player in session.scalars(select(PollPlayer).where(PollPlayer.poll_id == poll_id)):
        dist = actual.get(player.id, [0] * 10)
        total = sum((i + 1) * n for i, n in enumerate(dist))
        if (player.rating_count, player.rating_sum, player.distribution) != (
            sum(dist),
            total,
            dist,
        ):
            same = False
    return rows or 0, same


def scenario(
    label: str, url: str, seconds: int, n_tokens: int, use_redis: bool, ratings: bool = False
) -> dict:
    print(f"\n== {label}{' · player ratings (11 per set)' if ratings else ''} ==", flush=True)
    engine = make_engine(url)
    with Session(engine) as session:
        article = Article(cms_id="bench-" + uuid.uuid4().hex[:8], title="Bench")
        session.add(article)
        session.commit()
        if ratings:
            poll = create_any_poll(
                session,
                article,
                PollDraft(
                    question="Cijfers",
                    options=[],
                    kind=PollKind.PLAYER_RATINGS,
                    players=ELEVEN,
                    coach="Trainer",
                ),
                None,
                datetime.now(UTC),
            )
            session.commit()
            starters = [p.id for p in poll.players if p.shirt_number is not None]
            poll_id, option_ids = poll.id, []
        else:
            poll = create_poll(session, article, options=("Ja", "Nee", "Weet niet"))
            poll_id, option_ids = poll.id, [o.id for o in poll.options]

    # Baseline: insert + commit one row, same database, same worker count. Its table is made
    # here, once: each worker's create_app() runs create_all, and two workers creating it at the
    # same moment failed one of them ("database is locked" on SQLite, a duplicate pg_type row on
    # PostgreSQL), which left the baseline at a few dozen requests per second.
    baseline_metadata.create_all(engine)
    base = Gunicorn("minimal_app:create_app()", {"DATABASE_URL": url}, ROOT / "bench")
    try:
        base_rate, base_status = run_wrk(
            f"http://127.0.0.1:{base.port}/write", seconds, ROOT / "bench" / "post.lua"
        )
    finally:
        base.stop()
    with engine.connect() as conn:
        base_rows = conn.execute(text("select count(*) from bench_rows")).scalar()
    print(
        f"minimal insert+commit: {base_rate:.0f} req/s, 201={base_status.get('201')}, "
        f"rows={base_rows}"
    )

    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-" + uuid.uuid4().hex,
        "TRIBUNE_TRUSTED_PROXIES": "1",
        "TRIBUNE_RATELIMIT_ENABLED": "true",
        "TRIBUNE_REDIS_PREFIX": "votebench-" + uuid.uuid4().hex[:6],
    }
    if use_redis:
        env["REDIS_URL"] = REDIS
    tribune = Gunicorn("app:create_app()", env, ROOT)
    try:
        started = time.time()
        tokens = issue_tokens(tribune.port, poll_id, n_tokens)
        issued_in = time.time() - started
        with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as handle:
            for i, (token, ip) in enumerate(tokens):
                if ratings:
                    body = json.dumps(
                        {
                            "ratings": [
                                {"player_id": pid, "score": 1 + (i + k) % 10}
                                for k, pid in enumerate(starters)
                            ]
                        },
                        separators=(",", ":"),
                    )
                    handle.write(f"{token}\t{ip}\t{body}\n")
                else:
                    handle.write(f"{token}\t{ip}\t{option_ids[i % 3]}\n")
            token_file = handle.name
        # Every token is used once; wrk stops when all first votes are answered (the time
        # limit is only a guard: if it cuts the run, the 201 count can trail the rows).
        route = "ratings" if ratings else "votes"
        _, status = run_wrk(
            f"http://127.0.0.1:{tribune.port}/api/v1/polls/{poll_id}/{route}",
            VOTE_GUARD_SECONDS,
            ROOT / "bench" / ("ratings.lua" if ratings else "votes.lua"),
            f"/api/v1/polls/{poll_id}/{route}",
            f"http://127.0.0.1:{tribune.port}",
            token_file,
            "2",
        )
        os.unlink(token_file)
    finally:
        tribune.stop()
    with Session(engine) as session:
        rows = session.scalar(select(func.count()).where(Ballot.poll_id == poll_id))
        counter = session.get(Poll, poll_id).ballot_count  # type: ignore[union-attr]
        marked = session.scalar(
            select(func.count()).where(Ballot.poll_id == poll_id, Ballot.is_suspicious.is_(True))
        )
        first, last = session.execute(
            select(func.min(Ballot.created_at), func.max(Ballot.created_at)).where(
                Ballot.poll_id == poll_id
            )
        ).one()
        rating_rows, players_ok = players_match_rows(session, poll_id) if ratings else (0, True)
    # wrk's own Requests/sec divides by its whole -d (the 30 s guard), although the threads stop
    # as soon as every token has had its answer: it would report tokens / 30 s whatever the
    # server does. The vote rate is taken from the ballots' own server timestamps instead (first
    # to last ballot, stamped in the request), so it is the server's throughput while voting.
    span = (last - first).total_seconds() if rows and rows > 1 else 0.0
    rate = (rows - 1) / span if span > 0 else 0.0
    engine.dispose()
    ok = rows == status.get("201") == counter and players_ok
    if ratings:
        ok = ok and rating_rows == 11 * rows
        print(
            f"rating rows={rating_rows} (11 per set: {11 * rows}); "
            f"players' counters == rows: {'OK' if players_ok else 'MISMATCH'}"
        )
    print(f"tokens issued: {len(tokens)} in {issued_in:.1f}s ({len(tokens) / issued_in:.0f}/s)")
    print(
        f"votes: {rate:.0f} votes/s ({rows} ballots in {span:.1f}s), "
        f"201={status.get('201')} 200={status.get('200')} "
        f"other={status.get('other')}; ballot rows={rows}, poll.ballot_count={counter}, "
        f"marked suspicious={marked}"
    )
    print(
        f"ratio to minimal endpoint: {100 * rate / base_rate:.0f}%  "
        f"(201 answers == ballot rows == counter: {'OK' if ok else 'MISMATCH'})"
    )
    if "socket_errors" in status:
        print(f"wrk socket errors: {status['socket_errors']}")
    if not ok:
        # Which side lost count: per-second ballots show a stall, the server log its cause.
        print("server log (errors):\n" + (tribune.errors() or "(empty)"))
    return {
        "label": label,
        "votes_per_s": rate,
        "baseline_per_s": base_rate,
        "ratio": rate / base_rate,
        "ok": ok,
        "status": status,
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument(
        "--ratings", action="store_true", help="full 11-player rating sets instead of votes"
    )
    args = parser.parse_args()
    if not Path(WRK).exists():
        print("wrk is missing (apt-get install -y wrk)")
        return 2
    use_redis = redis_up()
    print(
        f"wrk -t2 -c8, {args.seconds}s per scenario; gunicorn -w 2 (sync); "
        f"rate limits on ({'Redis' if use_redis else 'memory per worker'})"
    )
    results = []
    if args.only in (None, "sqlite"):
        tmp = Path(tempfile.mkdtemp(prefix="votebench-"))
        url = f"sqlite:///{tmp / 'tribune.db'}"
        upgrade_database(url)
        try:
            results.append(
                scenario(
                    "SQLite (WAL, synchronous=NORMAL)",
                    url,
                    args.seconds,
                    args.tokens,
                    use_redis,
                    args.ratings,
                )
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.only in (None, "postgresql"):
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = "tribune_votebench_" + uuid.uuid4().hex[:8]
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        try:
            upgrade_database(url)
            results.append(
                scenario(
                    "PostgreSQL (fsync on, synchronous_commit default)",
                    url,
                    args.seconds,
                    args.tokens,
                    use_redis,
                    args.ratings,
                )
            )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print("\nsummary:")
    for r in results:
        print(
            f"  {r['label']}: {r['votes_per_s']:.0f} {'sets' if args.ratings else 'votes'}/s "
            f"vs {r['baseline_per_s']:.0f} "
            f"inserts/s = {100 * r['ratio']:.0f}% (goal >= 50%); "
            f"counts {'OK' if r['ok'] else 'MISMATCH'}"
        )
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
