"""Posting and reading comments under gunicorn -w 2, side by side with Isso (the peer).

Runs Isso's peer script (--isso, $ISSO_PEER), then Tribune on a fresh SQLite file with Redis:
  new     POST /api/v1/articles/<id>/comments through the full pipeline (screening, context
          rules, state machine, counters), rotating 20,000 seeded users (one precomputed
          password hash; session cookies minted with the app's own signer) and varied bodies
  thread  GET  /api/v1/articles/<id>/comments?per_page=50 on a 50-comment thread (cached,
          invalidated by the state machine)
  embed   POST /api/v1/articles/<id>/comments exactly as static/comments.js posts and
          replies: a JSON body, an embed access token per user as `Authorization: Bearer`,
          no cookie, the host page's Origin (an allowed one: every answer must carry CORS's
          Access-Control-Allow-Origin, counted); compared with Isso's POST /new like `new`
and prints requests/s, the ratio to Isso, and the share of 201 / 202 / 4xx answers. Then, as
a reference, bench/minimal_app.py (one INSERT + COMMIT per request) under the same gunicorn:
the ceiling any posting path can reach on this machine.

The host's speed drifts by tens of percent from one minute to the next, so Isso and Tribune
are measured in alternating rounds (--rounds, default 3: Isso's peer script, then Tribune's
two scenarios on the same running server); every round's ratios are printed and the median
ratio is the result.

Usage: .venv/bin/python bench/comments_bench.py [--seconds 8] [--rounds 3] [--isso PATH]
                                                [--no-isso] [--no-ceiling]
(details and the latest figures: bench/comments_bench.md)
Loopback only; each scenario is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The peer harness is not part of Tribune: $ISSO_PEER, else the benchmark machine's shared
# bench directory beside this checkout.
ISSO_PEER = ROOT.parent / "shared" / "bench" / "isso_peer.sh"
sys.path.insert(0, str(ROOT))

PORT = 8191
USERS = 20_000
WORDS = [
    "Defour",
    "KVM",
    "Malinwa",
    "beker",
    "finale",
    "spits",
    "verdediging",
    "middenveld",
    "coach",
    "ploeg",
    "seizoen",
    "Kompany",
    "Mechelen",
    "Westerlo",
    "Anderlecht",
    "Genk",
    "Club",
    "Standard",
    "supporters",
    "tribune",
    "sfeer",
    "match",
    "goal",
    "penalty",
    "scheidsrechter",
    "VAR",
    "wissel",
    "blessure",
    "transfer",
    "contract",
    "jeugd",
    "talent",
]
BODY_TEMPLATES = (
    "Wat een match gisteren, {0} en {1} waren top!",
    "Ik denk dat {0} beter past bij {1} dan iedereen denkt.",
    "Volgend seizoen moet {0} echt meer minuten krijgen tegen {1}.",
    "Die {0} in de tweede helft, daar won {1} de match mee.",
    "KIJK {0} EN {1}!!!",  # shouting: screened to hold
    "Mooie analyse over {0}, maar {1} blijft voor mij het probleem.",
    "{0} {1} {0} dat was een kankerwedstrijd",  # curse compound: hold
)


def wait_for(url: str, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def run_wrk(url: str, seconds: int, script: Path | None = None) -> tuple[float, str, str]:
    args = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE)
    status = re.search(r"STATUS (.*)", out)
    return rps, p50.group(1) if p50 else "?", status.group(1) if status else ""


def run_isso(script: Path, seconds: int) -> dict[str, float]:
    print(f"== Isso peer ({script}) ==", flush=True)
    out = subprocess.run(
        ["bash", str(script), str(seconds)], capture_output=True, text=True, timeout=900
    )
    results = {}
    for line in out.stdout.splitlines():
        print("  " + line)
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "isso":
            results[parts[1]] = float(parts[2])
    if not results:
        print(out.stderr[-2000:])
    return results


EMBED_USERS = 20_000  # more users, each with an embed access token (the embed scenario)
EMBED_ORIGIN = "http://localhost:8000"  # the news site's page the embed runs in


def seed(database_url: str, redis_url: str) -> tuple[str, list[str], list[str]]:
    """Fresh schema, one article with a 50-comment thread, 20,000 users with session cookies
    and EMBED_USERS more with embed access tokens; returns the cookies and the tokens."""
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from app import create_app
    from db import session_scope
    from migrations import upgrade_database
    from models import Article, Comment, CommentState, User
    from tallies.recount import recount

    upgrade_database(database_url)
    app = create_app(
        {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-secret"}
    )
    password_hash = generate_password_hash("bench-password-123")  # one hash for everyone
    with session_scope(app) as session:
        session.execute(
            insert(User),
            [
                {
                    "username": f"fan{i}",
                    "username_key": f"fan{i}",
                    "email": f"fan{i}@bench.test",
                    "password_hash": password_hash,
                    # Old accounts: the bench measures the pipeline, not the new-account rule.
                    "created_at": __import__("datetime").datetime(
                        2025, 1, 1, tzinfo=__import__("datetime").UTC
                    ),
                }
                for i in range(USERS + EMBED_USERS)
            ],
        )
        thread = Article(cms_id="bench-thread", title="Thread van 50 reacties")
        target = Article(cms_id="bench-post", title="Hier wordt gepost")
        session.add_all([thread, target])
        session.flush()
        for i in range(50):
            session.add(
                Comment(
                    article_id=thread.id,
                    author_id=1 + i,
                    body=f"Reactie nummer {i} over Defour en KV Mechelen",
                    state=CommentState.PUBLISHED,
                )
            )
        session.flush()
        recount(session)
    import hashlib
    import secrets
    from datetime import UTC, datetime, timedelta

    from accounts.embed_sessions import EMBED_TOKEN_PREFIX
    from models import EmbedSession, EmbedVia

    # The embed's readers are their own users (the flood limit counts per user: sharing the
    # cookie scenario's users would turn the embed's posts into 429s), each with a live embed
    # access token as the SSO exchange issues it (only its hash stored).
    embed_tokens = [EMBED_TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(EMBED_USERS)]
    now = datetime.now(UTC)
    with session_scope(app) as session:
        session.execute(
            insert(EmbedSession),
            [
                {
                    "user_id": USERS + 1 + i,
                    "token_hash": hashlib.sha256(plain.encode()).hexdigest(),
                    "via": EmbedVia.SSO,
                    "session_version": 1,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for i, plain in enumerate(embed_tokens)
            ],
        )
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    # The session a login leaves behind (flask_login.login_user): user, freshness and the
    # identifier of the client (wrk: 127.0.0.1, no User-Agent). Without "_id" Flask-Login's
    # session protection would rewrite the cookie on every request, which no browser sees.
    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        identifier = app.login_manager._session_identifier_generator()  # type: ignore[attr-defined]
    cookies = [
        serializer.dumps({"_user_id": f"{uid}:1", "_fresh": True, "_id": identifier})
        for uid in range(1, USERS + 1)
    ]
    app.extensions["tribune.engine"].dispose()
    return "bench-post", cookies, embed_tokens


def lua_post_script(path: Path, cookies: list[str], origin: str, embed: bool = False) -> None:
    """wrk's script for posting the API's JSON: with a session cookie, or (embed) as
    comments.js sends it, with an embed access token and the host page's Origin; the embed's
    answers are counted as `nocors` when they lack the CORS header the browser needs."""
    random.seed(7)
    bodies = []
    for i in range(4000):
        template = BODY_TEMPLATES[i % len(BODY_TEMPLATES)]
        bodies.append(template.format(random.choice(WORDS), random.choice(WORDS)) + f" ({i})")
    lines = ["cookies = {"] + [f'"{c}",' for c in cookies] + ["}", "bodies = {"]
    lines += [json.dumps(json.dumps({"body": b})) + "," for b in bodies] + ["}"]
    content_type = "application/json"
    credential = "['Authorization']='Bearer ' .. c" if embed else "['Cookie']='session=' .. c"
    cors_check = (
        "  if headers['Access-Control-Allow-Origin'] ~= '" + origin + "' then"
        " snocors = snocors + 1 end"
        if embed
        else ""
    )
    lines += [
        "counter = 0",
        "threads = {}",
        "function setup(thread) thread:set('id', counter); counter = counter + 1;"
        " table.insert(threads, thread) end",
        "function init(args) math.randomseed(os.time() + id * 7919); n = 0;"
        " s201 = 0; s202 = 0; s422 = 0; s429 = 0; sother = 0; snocors = 0 end",
        "request = function()",
        "  n = n + 1",
        "  local c = cookies[math.random(#cookies)]",
        "  local b = bodies[math.random(#bodies)]",
        "  local headers = {['Content-Type']='" + content_type + "', ['Origin']='" + origin + "',",
        "                   " + credential + "}",
        "  return wrk.format('POST', nil, headers, b)",
        "end",
        "response = function(status, headers)",
        "  if status == 201 then s201 = s201 + 1 elseif status == 202 then s202 = s202 + 1",
        "  elseif status == 422 then s422 = s422 + 1 elseif status == 429 then s429 = s429 + 1",
        "  else sother = sother + 1 end",
        cors_check,
        "end",
        "function done(summary, latency, requests)",
        "  local t = {s201 = 0, s202 = 0, s422 = 0, s429 = 0, sother = 0, snocors = 0}",
        "  for _, th in ipairs(threads) do",
        "    for k, _ in pairs(t) do t[k] = t[k] + th:get(k) end",
        "  end",
        "  io.write(string.format('STATUS 201=%d 202=%d 422=%d 429=%d other=%d"
        + (" nocors=%d" if embed else "")
        + "\\n',",
        "    t.s201, t.s202, t.s422, t.s429, t.sother" + (", t.snocors" if embed else "") + "))",
        "end",
    ]
    path.write_text("\n".join(lines))


def run_ceiling(work: Path, seconds: int) -> tuple[float, str, str]:
    """bench/minimal_app.py (one INSERT + COMMIT per request, Tribune's engine settings) under
    the same gunicorn -w 2 on a fresh SQLite file: what any posting path could reach at best."""
    from bench.minimal_app import metadata
    from db import make_engine

    url = f"sqlite:///{work / 'ceiling.db'}"
    # Its table exists before gunicorn starts: each worker's create_app() runs create_all, and
    # two workers creating it at once fail one of them (the ceiling then collapses).
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()
    env = dict(os.environ, DATABASE_URL=url)
    port = PORT + 1
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "--chdir",
            str(ROOT / "bench"),
            "minimal_app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    try:
        wait_for_port(port)
        return run_wrk(f"http://127.0.0.1:{port}/write", seconds, ROOT / "bench" / "post.lua")
    finally:
        server.terminate()  # the master stops its workers gracefully
        server.wait(timeout=20)


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    import socket

    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server on port {port} did not start")


def count_outcomes(database_url: str) -> dict[str, int]:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "select state, count(*) from comments c join articles a on a.id = c.article_id "
                "where a.cms_id = 'bench-post' group by state"
            )
        ).all()
    engine.dispose()
    return {state: count for state, count in rows}


def status_counts(status: str) -> Counter[str]:
    """wrk's STATUS line ("201=3460 202=618 …") as counts per answer."""
    return Counter({key: int(value) for key, value in (p.split("=") for p in status.split())})


def answer_shares(counts: Counter[str]) -> str:
    """ "201 3460 (85%), 202 618 (15%), …" """
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in counts.items())


def start_tribune(database_url: str, redis_url: str) -> subprocess.Popen:  # type: ignore[type-arg]
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="bench-secret",
        TRIBUNE_REDIS_PREFIX="bench",
        EMBED_ALLOWED_ORIGINS=EMBED_ORIGIN,
    )
    return subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{PORT}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating Isso/Tribune rounds (median reported)"
    )
    parser.add_argument("--isso", default=os.environ.get("ISSO_PEER") or str(ISSO_PEER))
    parser.add_argument("--no-isso", action="store_true")
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip the minimal insert+commit endpoint"
    )
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"))
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is missing: apt-get install wrk")
        return 2
    isso_script = None if args.no_isso else Path(args.isso)
    if isso_script is not None and not isso_script.exists():
        print(f"Isso peer script not found at {isso_script}; Tribune figures only")
        isso_script = None

    import redis

    redis.Redis.from_url(args.redis).flushdb()
    work = Path(tempfile.mkdtemp(prefix="tribune-bench-"))
    database_url = f"sqlite:///{work / 'bench.db'}"
    post_article, cookies, embed_tokens = seed(database_url, args.redis)
    origin = f"http://127.0.0.1:{PORT}"
    script = work / "post.lua"
    lua_post_script(script, cookies, origin)
    embed_script = work / "embed.lua"
    lua_post_script(embed_script, embed_tokens, EMBED_ORIGIN, embed=True)

    goals = {"new": 2.0, "thread": 10.0, "embed": 2.0}
    ratios: dict[str, list[float]] = {"new": [], "thread": [], "embed": []}
    posting: list[float] = []
    statuses: list[Counter[str]] = []
    server = start_tribune(database_url, args.redis)
    try:
        wait_for(f"{origin}/api/v1/articles/bench-thread/comments?per_page=50")
        for number in range(1, max(1, args.rounds) + 1):
            isso = run_isso(isso_script, args.seconds) if isso_script else {}
            # Tribune's server stayed up (idle) while Isso ran on its own port.
            tribune = {
                "thread": run_wrk(
                    f"{origin}/api/v1/articles/bench-thread/comments?per_page=50", args.seconds
                ),
                "new": run_wrk(
                    f"{origin}/api/v1/articles/{post_article}/comments", args.seconds, script
                ),
                "embed": run_wrk(
                    f"{origin}/api/v1/articles/{post_article}/comments", args.seconds, embed_script
                ),
            }
            print(f"== round {number}: Tribune (gunicorn -w 2, SQLite + Redis) ==")
            for name, (rps, p50, status) in tribune.items():
                versus = ""
                peer = "new" if name == "embed" else name  # both are Isso's POST /new
                if peer in isso:
                    ratios[name].append(rps / isso[peer])
                    versus = f"{rps / isso[peer]:.2f}x Isso ({isso[peer]:.1f} req/s)"
                print(f"tribune {name:<7} {rps:>9.1f} req/s  p50 {p50:<8} {versus}")
                if name == "embed" and status:
                    counts = status_counts(status)
                    missing = counts.pop("nocors", 0)
                    print(
                        "  answers: " + answer_shares(counts) + f"; without CORS header: {missing}"
                    )
                if name == "new" and status:
                    statuses.append(status_counts(status))
                    print("  answers: " + answer_shares(statuses[-1]))
            posting.append(tribune["new"][0])
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)

    ceiling = None if args.no_ceiling else run_ceiling(work, args.seconds)
    outcomes = count_outcomes(database_url)
    print(f"== summary over {len(posting)} round(s) ==")
    for name, values in ratios.items():
        if values:
            each = ", ".join(f"{value:.2f}x" for value in values)
            print(
                f"tribune {name:<7} median {statistics.median(values):.2f}x Isso "
                f"(goal >= {goals[name]:.0f}x); rounds: {each}"
            )
    if statuses:
        total: Counter[str] = Counter()
        for counts in statuses:
            total.update(counts)  # keeps the zero counts, unlike +
        print("  answers, all rounds: " + answer_shares(total))
    if ceiling is not None:
        rps, p50, ceiling_status = ceiling
        if "other=0" not in ceiling_status:
            print(f"  ceiling answers not all 201: {ceiling_status}")
        share = statistics.median(posting) / rps
        print(
            f"ceiling  {rps:>9.1f} req/s  p50 {p50:<8} minimal INSERT+COMMIT endpoint "
            f"(bench/minimal_app.py, after the rounds): Tribune's median posting rate is "
            f"{share:.0%} of it"
        )
    stored = sum(outcomes.values())
    print(
        "post outcomes stored: "
        + ", ".join(
            f"{state} {count} ({count / max(stored, 1):.0%})"
            for state, count in sorted(outcomes.items())
        )
    )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
