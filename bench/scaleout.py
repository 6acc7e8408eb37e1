"""Scale-out benchmark: two Tribune instances behind nginx, through PgBouncer, with faults.

    .venv/bin/python bench/scaleout.py [--votes 20000] [--repeats 2000] [--comments 2000]
                                       [--throughput-votes 4000] [--rounds 2] [--quick]

Starts, all on loopback and free ports, in a temp dir:
  - a throwaway PostgreSQL cluster (initdb, its own port; the shared one is never restarted)
    with a database scaleout_<pid>, migrated and seeded (articles, polls, comment users with
    embed access tokens);
  - PgBouncer in transaction mode in front of it (a generated ini);
  - one throwaway redis-server;
  - two Tribune instances (gunicorn -c gunicorn.conf.py, 2 workers each, own ports);
  - nginx in the foreground of a child process (generated config): one server with an upstream
    of both instances, one with an upstream of instance A alone (the single-instance run).
Then:
  1. throughput: the same vote load through nginx to one instance and to two, alternating
     rounds; the ratio two/one (goal >= 0.9: the machine has two cores, so this shows the lack
     of overhead, not scaling);
  2. the fault run: --votes first votes from distinct voters, --repeats repeat attempts and
     --comments comments from rotating users through nginx to both instances, while one
     gunicorn worker is SIGKILLed (at 25%), PostgreSQL restarted (50%) and Redis restarted
     (75%). Votes that get no answer or a 5xx are retried by the client (the same voter token:
     a retry of a vote that was committed answers 200); comments are not retried.
  3. checks: ballot rows == acknowledged (201) votes (+ votes committed whose answer was lost
     with a killed worker, each of which had a failed attempt), no voter counted twice, every
     acknowledged comment stored, counters == rows (recount: 0 drift), the flood limit shared by
     the two instances (a user posting alternately to A and B is limited once), failed requests
     and the time to recover after each fault (< 10 s).
Exits 1 when a check fails. The client is threads + http.client (keep-alive, TCP_NODELAY) like
vote_bench.py's token issuance; it runs on the same two cores as the servers.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import random
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
EMBED_ORIGIN = "http://localhost:8000"
SECRET = "scaleout-" + secrets.token_hex(16)
THREADS = 16
RECOVERY_GOAL_SECONDS = 10.0
RATIO_GOAL = 0.9
FLOOD_LIMIT = 3
CLEAN_BODIES = [
    "Wat een match gisteren, {0} was top in de tweede helft.",
    "Ik denk dat {0} beter past bij de ploeg dan iedereen denkt.",
    "Volgend seizoen moet {0} echt meer minuten krijgen.",
    "Mooie analyse over {0}, daar ben ik het mee eens.",
]
NAMES = ["Defour", "Kompany", "Malinwa", "de spits", "de coach", "de jeugd", "de keeper"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


# ---------------------------------------------------------------- the parts


class Postgres:
    """A throwaway cluster (initdb in the temp dir, its own port), restarted by the bench."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.directory = directory
        self.data = directory / "pgdata"
        self.log = directory / "postgres.log"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            as_postgres(["pg_ctl", "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
            timeout=60,
            cwd=self.directory,
        )

    def init(self) -> None:
        subprocess.run(
            as_postgres(
                ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
            timeout=120,
            cwd=self.directory,
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c max_connections=100"
        )
        self._ctl("-l", str(self.log), "-o", options, "-w", "-t", "30", "start")

    def restart(self) -> None:
        # Not `pg_ctl restart`: its new server would inherit (and hold) our output pipes.
        self.stop()
        self.start()

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


class Child:
    """A foreground server process of ours, stopped by its own pid (and process group)."""

    def __init__(self, name: str, command: list[str], directory: Path, **kwargs: Any) -> None:
        self.name = name
        self.log_path = directory / f"{name}.log"
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            command,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kwargs,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()

    def tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def start_redis(directory: Path, port: int) -> Child:
    child = Child(
        f"redis-{port}",
        [
            "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(directory),
        ],
        directory,
    )  # fmt: skip
    wait_port(port, 10)
    return child


def start_pgbouncer(directory: Path, pg: Postgres, database: str) -> tuple[Child, int]:
    port = free_port()
    ini = directory / "pgbouncer.ini"
    (directory / "userlist.txt").write_text('"postgres" ""\n')
    ini.write_text(
        f"""[databases]
{database} = host=127.0.0.1 port={pg.port} dbname={database}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "userlist.txt"}
pool_mode = transaction
max_client_conn = 400
default_pool_size = 20
reserve_pool_size = 0
server_reset_query =
server_check_delay = 0
server_login_retry = 1
server_connect_timeout = 3
query_wait_timeout = 15
ignore_startup_parameters = extra_float_digits,options
logfile =
log_connections = 0
log_disconnections = 0
"""
    )
    child = Child("pgbouncer", as_postgres(["pgbouncer", str(ini)]), directory)
    wait_port(port, 10)
    return child, port


class Instance:
    """One Tribune instance: gunicorn -c gunicorn.conf.py with 2 workers on its own port."""

    def __init__(self, name: str, directory: Path, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        metrics = directory / f"metrics-{name}"
        metrics.mkdir()
        self.child = Child(
            f"gunicorn-{name}",
            [
                str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2",
                "-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "app:create_app()",
            ],
            directory,
            cwd=ROOT,
            env={**os.environ, **env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)},
        )  # fmt: skip
        wait_port(self.port, 60)

    def workers(self) -> list[int]:
        pid = self.child.proc.pid
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]


def start_nginx(directory: Path, upstreams: dict[str, list[int]]) -> tuple[Child, dict[str, int]]:
    """nginx in the foreground (daemon off): one server per upstream, proxy headers set."""
    ports = {name: free_port() for name in upstreams}
    temp = directory / "nginx"
    temp.mkdir()
    temp.chmod(0o777)
    blocks = []
    for name, backends in upstreams.items():
        servers = "".join(f"    server 127.0.0.1:{p} max_fails=0;\n" for p in backends)
        blocks.append(
            f"""  upstream {name} {{
{servers}    keepalive 32;
  }}
  server {{
    listen 127.0.0.1:{ports[name]} backlog=1024;
    location / {{
      proxy_pass http://{name};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Request-ID $request_id;
      proxy_read_timeout 60s;
    }}
  }}
"""
        )
    conf = directory / "nginx.conf"
    conf.write_text(
        f"""daemon off;
worker_processes 1;
pid {temp / "nginx.pid"};
error_log {directory / "nginx-error.log"} warn;
events {{ worker_connections 2048; }}
http {{
  access_log off;
  client_body_temp_path {temp / "body"};
  proxy_temp_path {temp / "proxy"};
  fastcgi_temp_path {temp / "fastcgi"};
  uwsgi_temp_path {temp / "uwsgi"};
  scgi_temp_path {temp / "scgi"};
  keepalive_timeout 65s;
{"".join(blocks)}}}
"""
    )
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    child = Child("nginx", [nginx, "-c", str(conf), "-p", str(temp)], directory)
    for port in ports.values():
        wait_port(port, 10)
    return child, ports


# ---------------------------------------------------------------- seeding


@dataclass
class Seed:
    article: str
    polls: list[tuple[int, list[int]]]  # (poll id, option ids) for each run
    embed_tokens: list[str]  # comment users' embed access tokens (the last is the flood user's)


def seed(url: str, n_polls: int, n_users: int) -> Seed:
    from sqlalchemy import insert, select

    from accounts.embed_sessions import EMBED_TOKEN_PREFIX
    from app import create_app
    from db import session_scope
    from migrations import upgrade_database
    from models import Article, EmbedSession, EmbedVia, User
    from tests.polls_fixtures import create_poll

    upgrade_database(url)
    app = create_app({"DATABASE_URL": url, "REDIS_URL": None, "SECRET_KEY": SECRET})
    tokens = [EMBED_TOKEN_PREFIX + secrets.token_urlsafe(32) for _ in range(n_users)]
    old = datetime(2025, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    with session_scope(app) as session:
        session.execute(
            insert(User),
            [
                {
                    "username": f"fan{i}",
                    "username_key": f"fan{i}",
                    "email": f"fan{i}@scaleout.test",
                    "password_hash": "!",
                    "created_at": old,  # not new accounts: no new-account rule
                }
                for i in range(n_users)
            ],
        )
        session.flush()
        user_ids = list(session.scalars(select(User.id).order_by(User.id)))
        session.execute(
            insert(EmbedSession),
            [
                {
                    "user_id": uid,
                    "token_hash": hashlib.sha256(plain.encode()).hexdigest(),
                    "via": EmbedVia.SSO,
                    "session_version": 1,
                    "created_at": now,
                    "expires_at": now + timedelta(days=1),
                }
                for uid, plain in zip(user_ids, tokens, strict=True)
            ],
        )
        article = Article(cms_id="bekerfinale", title="Bekerfinale: de match van het jaar")
        session.add(article)
        session.flush()
        polls = []
        for _ in range(n_polls):
            poll = create_poll(session, article, options=("Ja", "Nee", "Weet niet"))
            polls.append((poll.id, [o.id for o in poll.options]))
    app.extensions["tribune.engine"].dispose()
    return Seed(article.cms_id, polls, tokens)


def voter_token(poll_id: int, token_id: str) -> str:
    """A voter token as POST /voter-token issues it (signed with the instances' SECRET_KEY); the
    bench knows its token id, so it can match ballots (voter_key "a:<id>") to answers."""
    from polls.tokens import VOTER_SALT, _serializer

    return _serializer(SECRET, VOTER_SALT).dumps({"p": poll_id, "t": token_id})


# ---------------------------------------------------------------- the load


@dataclass
class Attempt:
    kind: str  # vote, repeat, comment
    key: str  # voter token id, or the comment's user index + serial
    sent: float
    done: float
    status: int  # 0: no answer (connection reset, timeout)
    comment_id: int | None = None


@dataclass
class Job:
    kind: str
    key: str
    path: str
    body: bytes
    headers: dict[str, str]
    retry: bool


@dataclass
class Load:
    jobs: list[Job]
    attempts: list[Attempt] = field(default_factory=list)
    done: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def client_ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{(i & 255) or 1}"


def vote_jobs(
    poll_id: int, options: list[int], ids: list[str], origin: str, kind: str
) -> list[Job]:
    return [
        Job(
            kind,
            tid,
            f"/api/v1/polls/{poll_id}/votes",
            json.dumps({"option_ids": [options[i % len(options)]]}).encode(),
            {
                "Content-Type": "application/json",
                "Origin": origin,
                "X-Tribune-Voter-Token": voter_token(poll_id, tid),
                # The client's address as a CDN in front of nginx would pass it (2 trusted hops).
                "X-Forwarded-For": client_ip(i),
            },
            retry=True,
        )
        for i, tid in enumerate(ids)
    ]


def comment_jobs(article: str, tokens: list[str], count: int) -> list[Job]:
    rng = random.Random(19)
    jobs = []
    for n in range(count):
        user = n % len(tokens)
        body = rng.choice(CLEAN_BODIES).format(rng.choice(NAMES)) + f" ({n})"
        jobs.append(
            Job(
                "comment",
                f"{user}:{n}",
                f"/api/v1/articles/{article}/comments",
                json.dumps({"body": body}).encode(),
                {
                    "Content-Type": "application/json",
                    "Origin": EMBED_ORIGIN,
                    "Authorization": "Bearer " + tokens[user],
                    "X-Forwarded-For": client_ip(100_000 + user),
                },
                retry=False,
            )
        )
    return jobs


class NoDelayConnection(http.client.HTTPConnection):
    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def drive(port: int, load: Load, threads: int = THREADS) -> float:
    """Send every job (in order, from `threads` keep-alive connections); return the seconds."""
    queue = iter(load.jobs)
    take = threading.Lock()

    def worker() -> None:
        conn = NoDelayConnection("127.0.0.1", port, timeout=30)
        while True:
            with take:
                job = next(queue, None)
            if job is None:
                break
            for attempt in range(200):
                sent = time.monotonic()
                status, comment_id = 0, None
                try:
                    conn.request("POST", job.path, body=job.body, headers=job.headers)
                    response = conn.getresponse()
                    data = response.read()
                    status = response.status
                    if job.kind == "comment" and status in (201, 202):
                        comment_id = json.loads(data).get("id")
                    if response.getheader("Connection", "").lower() == "close":
                        conn.close()
                except (OSError, http.client.HTTPException):
                    conn.close()
                done = time.monotonic()
                with load.lock:
                    load.attempts.append(Attempt(job.kind, job.key, sent, done, status, comment_id))
                if not job.retry or status in (200, 201) or 400 <= status < 500 and status != 429:
                    break
                time.sleep(min(0.05 * (attempt + 1), 0.5))
            with load.lock:
                load.done += 1
        conn.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.monotonic() - started


# ---------------------------------------------------------------- faults


@dataclass
class Fault:
    name: str
    at: float = 0.0  # when it was done (monotonic)
    back: float = 0.0  # when the part was back (restart returned)


def fault_plan(
    load: Load, total: int, steps: list[tuple[float, Fault, Callable[[], None]]]
) -> threading.Thread:
    def run() -> None:
        for share, fault, action in steps:
            while load.done < share * total:
                time.sleep(0.02)
            fault.at = time.monotonic()
            action()
            fault.back = time.monotonic()
            print(f"  fault: {fault.name} at {load.done}/{total} ({fault.back - fault.at:.2f} s)")

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def recovery(fault: Fault, attempts: list[Attempt], until: float) -> tuple[int, float]:
    """(failed requests, seconds from the fault to the first success after the last failure)
    for the window from the fault to the next one."""

    def ok(a: Attempt) -> bool:
        return 200 <= a.status < 300 or (a.kind == "comment" and a.status in (422,))

    window = [a for a in attempts if a.done >= fault.at and a.done < until]
    failed = [a for a in window if not ok(a) and a.status != 429]
    after = max((a.done for a in failed), default=fault.at)
    first = min(
        (a.done for a in window if ok(a) and a.sent >= (after if failed else fault.at)),
        default=float("inf"),
    )
    return len(failed), first - fault.at


# ---------------------------------------------------------------- the checks


def check_votes(url: str, poll_id: int, attempts: list[Attempt]) -> tuple[list[str], bool]:
    from sqlalchemy import create_engine, func, select

    from models import Ballot

    engine = create_engine(url)
    with engine.connect() as conn:
        keys = list(conn.scalars(select(Ballot.voter_key).where(Ballot.poll_id == poll_id)))
        rows = conn.scalar(select(func.count()).where(Ballot.poll_id == poll_id))
    engine.dispose()
    stored = Counter(k.removeprefix("a:") for k in keys)
    votes = [a for a in attempts if a.kind in ("vote", "repeat")]
    acked = Counter(a.key for a in votes if a.status == 201)
    unanswered = {a.key for a in votes if a.status == 0 or a.status >= 500}
    n201 = sum(acked.values())
    lost = [k for k in acked if k not in stored]
    doubled_rows = [k for k, n in stored.items() if n > 1]
    doubled_acks = [k for k, n in acked.items() if n > 1]
    # Committed while its answer was lost (the worker was killed after the commit, or the
    # answer died with the connection): the retry got 200, and the voter had a failed attempt.
    silent = [k for k in stored if k not in acked]
    unexplained = [k for k in silent if k not in unanswered]
    repeats = [a for a in attempts if a.kind == "repeat"]
    repeat_statuses = Counter(a.status for a in repeats)
    lines = [
        f"votes: {n201} acknowledged (201), ballot rows {rows} "
        f"(distinct voters {len(stored)}), committed with a lost answer {len(silent)} "
        f"(each had a failed attempt: {'yes' if not unexplained else 'NO'})",
        f"  lost acknowledged votes: {len(lost)}; voters with two rows: {len(doubled_rows)}; "
        f"voters acknowledged twice: {len(doubled_acks)}",
        "  repeat attempts: " + ", ".join(f"{s}={n}" for s, n in sorted(repeat_statuses.items())),
        f"  ballot rows == acknowledged + committed-unanswered: {rows} == {n201} + {len(silent)}",
    ]
    ok = (
        not lost
        and not doubled_rows
        and not doubled_acks
        and not unexplained
        and rows == n201 + len(silent)
    )
    return lines, ok


def check_comments(url: str, attempts: list[Attempt]) -> tuple[list[str], bool]:
    from sqlalchemy import create_engine, select

    from models import Comment

    engine = create_engine(url)
    with engine.connect() as conn:
        ids = set(conn.scalars(select(Comment.id)))
    engine.dispose()
    posts = [a for a in attempts if a.kind == "comment"]
    statuses = Counter(a.status for a in posts)
    acked = [a.comment_id for a in posts if a.status in (201, 202)]
    lost = [i for i in acked if i not in ids]
    unanswered = sum(1 for a in posts if a.status == 0 or a.status >= 500)
    extra = len(ids) - len(acked) - statuses.get(422, 0)
    lines = [
        "comments: " + ", ".join(f"{s}={n}" for s, n in sorted(statuses.items())),
        f"  acknowledged (201/202) {len(acked)}, stored rows {len(ids)}, "
        f"acknowledged but missing {len(lost)}, stored without an answer {extra} "
        f"(<= unanswered {unanswered})",
    ]
    return lines, not lost and 0 <= extra <= unanswered


def check_recount(url: str) -> tuple[list[str], bool]:
    from sqlalchemy.orm import Session

    from db import make_engine
    from tallies.recount import recount

    engine = make_engine(url)
    with Session(engine) as session:
        drifts = recount(session)
        session.rollback()
    engine.dispose()
    return [f"recount: {len(drifts)} drift(s) {[str(d) for d in drifts][:5]}"], not drifts


def check_flood(ports: list[int], token: str, article: str) -> tuple[list[str], bool]:
    """One user posts alternately to instance A and B: limited once, after FLOOD_LIMIT posts."""
    statuses = []
    for n in range(FLOOD_LIMIT + 2):
        port = ports[n % 2]
        conn = NoDelayConnection("127.0.0.1", port, timeout=30)
        conn.request(
            "POST",
            f"/api/v1/articles/{article}/comments",
            body=json.dumps({"body": f"Nog een reactie over de finale, nummer {n}."}),
            headers={
                "Content-Type": "application/json",
                "Origin": EMBED_ORIGIN,
                "Authorization": "Bearer " + token,
            },
        )
        response = conn.getresponse()
        response.read()
        statuses.append(response.status)
        conn.close()
    accepted = sum(1 for s in statuses if s in (201, 202))
    ok = accepted == FLOOD_LIMIT and statuses[FLOOD_LIMIT:] == [429, 429]
    return [
        f"flood limit across instances (limit {FLOOD_LIMIT}, posts alternating A/B): "
        f"{statuses} -> {'shared' if ok else 'NOT SHARED'}"
    ], ok


# ---------------------------------------------------------------- the run


def throughput(port: int, poll: tuple[int, list[int]], n: int, origin: str) -> float:
    ids = [secrets.token_urlsafe(16) for _ in range(n)]
    load = Load(vote_jobs(poll[0], poll[1], ids, origin, "vote"))
    seconds = drive(port, load)
    good = sum(1 for a in load.attempts if a.status == 201)
    return good / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=2_000)
    parser.add_argument("--comments", type=int, default=2_000)
    parser.add_argument("--throughput-votes", type=int, default=4_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (logs)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a small run (1,000 votes, 100 repeats, 200 comments, 500-vote throughput rounds); "
        "the throughput ratio is printed, not checked",
    )
    args = parser.parse_args()
    if args.quick:
        args.votes, args.repeats, args.comments = 1_000, 100, 200
        args.throughput_votes, args.rounds = 500, 1
    missing = [
        name
        for name in ("nginx", "pgbouncer", "initdb", "pg_ctl", "redis-server")
        if shutil.which(name) is None and not Path(f"/usr/sbin/{name}").exists()
    ]
    if missing:
        print("missing: " + ", ".join(missing) + " (apt-get install nginx pgbouncer ...)")
        return 2

    directory = Path(tempfile.mkdtemp(prefix="tribune-scaleout-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    children: list[Child] = []
    redis_box: list[Child] = []
    pg = Postgres(directory)
    pg_started = False
    database = f"scaleout_{os.getpid()}"
    results: list[tuple[list[str], bool]] = []
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f} (the host is shared)")
        pg.init()
        pg.start()
        pg_started = True
        from sqlalchemy import create_engine, text

        admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        direct = pg.url(database)
        comment_users = max(1, args.comments // 2) + 1  # 2 posts per user, under the limit
        data = seed(direct, 2 * args.rounds + 2, comment_users)
        bouncer, bouncer_port = start_pgbouncer(directory, pg, database)
        children.append(bouncer)
        redis_port = free_port()
        redis_box.append(start_redis(directory, redis_port))
        env = {
            # PgBouncer 1.18 keeps no prepared statements in transaction mode: psycopg must
            # not prepare (db.make_engine reads prepare_threshold from the URL).
            "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{bouncer_port}/{database}"
            "?prepare_threshold=none",
            "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
            "SECRET_KEY": SECRET,
            "TRIBUNE_TRUSTED_PROXIES": "2",
            "TRIBUNE_RATELIMIT_ENABLED": "true",
            "TRIBUNE_FLOOD_LIMIT": str(FLOOD_LIMIT),
            "EMBED_ALLOWED_ORIGINS": EMBED_ORIGIN,
            "TRIBUNE_LOG_LEVEL": "WARNING",
        }
        a = Instance("a", directory, env)
        children.append(a.child)
        b = Instance("b", directory, env)
        children.append(b.child)
        nginx, ports = start_nginx(directory, {"pair": [a.port, b.port], "single": [a.port]})
        children.append(nginx)
        print(
            f"PostgreSQL :{pg.port} <- PgBouncer :{bouncer_port} (transaction mode) <- "
            f"gunicorn A :{a.port}, B :{b.port} (2 workers each) <- nginx :{ports['pair']} "
            f"(A+B), :{ports['single']} (A alone); Redis :{redis_port}"
        )

        # 1. Throughput: the same load through nginx to one instance and to both (after a
        # warm-up of every worker: the first requests build caches and pools).
        polls = iter(data.polls)
        warm = next(polls)
        for label in ("pair", "single"):
            throughput(ports[label], warm, 200, f"http://127.0.0.1:{ports[label]}")
        single: list[float] = []
        pair: list[float] = []
        for r in range(args.rounds):
            for label, runs in (("single", single), ("pair", pair)):
                origin = f"http://127.0.0.1:{ports[label]}"
                runs.append(throughput(ports[label], next(polls), args.throughput_votes, origin))
                print(f"  round {r + 1} {label}: {runs[-1]:.0f} votes/s", flush=True)
        ratio = statistics.median(pair) / statistics.median(single)
        print(
            f"throughput: one instance {statistics.median(single):.0f} votes/s, two instances "
            f"{statistics.median(pair):.0f} votes/s, ratio {ratio:.2f} (goal >= {RATIO_GOAL})"
        )

        # 2. The fault run.
        poll_id, options = next(polls)
        origin = f"http://127.0.0.1:{ports['pair']}"
        ids = [secrets.token_urlsafe(16) for _ in range(args.votes)]
        firsts = vote_jobs(poll_id, options, ids, origin, "vote")
        repeat_ids = random.Random(7).sample(ids[: max(1, len(ids) // 3)], args.repeats)
        repeats = vote_jobs(poll_id, options, repeat_ids, origin, "repeat")
        posts = comment_jobs(data.article, data.embed_tokens[:-1], args.comments)
        # Interleaved; the repeats only in the last half (their first vote long answered).
        rng = random.Random(3)
        head = firsts[: len(firsts) // 2] + posts[: len(posts) // 2]
        rng.shuffle(head)
        tail = firsts[len(firsts) // 2 :] + posts[len(posts) // 2 :] + repeats
        rng.shuffle(tail)
        load = Load(head + tail)
        total = len(load.jobs)

        def kill_worker() -> None:
            os.kill(a.workers()[0], signal.SIGKILL)

        def restart_redis() -> None:
            redis_box[0].stop()
            redis_box[0] = start_redis(directory, redis_port)

        faults = [Fault("SIGKILL of a gunicorn worker"), Fault("PostgreSQL restart"),
                  Fault("Redis restart")]  # fmt: skip
        print(
            f"fault run: {args.votes} votes, {args.repeats} repeats, {args.comments} comments "
            f"through nginx to A+B, {THREADS} client threads",
            flush=True,
        )
        planner = fault_plan(
            load,
            total,
            [(0.25, faults[0], kill_worker), (0.5, faults[1], pg.restart),
             (0.75, faults[2], restart_redis)],
        )  # fmt: skip
        seconds = drive(ports["pair"], load)
        planner.join()
        answered = Counter(a.status for a in load.attempts)
        print(
            f"fault run: {len(load.attempts)} requests (with retries) in {seconds:.1f} s "
            f"({len(load.attempts) / seconds:.0f}/s); answers "
            + ", ".join(f"{s or 'none'}={n}" for s, n in sorted(answered.items()))
        )
        ends = [f.at for f in faults[1:]] + [float("inf")]
        for fault, until in zip(faults, ends, strict=True):
            failed, took = recovery(fault, load.attempts, until)
            good = took < RECOVERY_GOAL_SECONDS
            results.append(
                ([f"{fault.name}: {failed} failed requests, recovered in {took:.2f} s "
                  f"(goal < {RECOVERY_GOAL_SECONDS:.0f} s)"], good)
            )  # fmt: skip

        # 3. Checks.
        results.append(check_votes(direct, poll_id, load.attempts))
        results.append(check_comments(direct, load.attempts))
        results.append(check_recount(direct))
        results.append(check_flood([a.port, b.port], data.embed_tokens[-1], data.article))
        results.append(
            ([f"throughput ratio two/one instance: {ratio:.2f} (goal >= {RATIO_GOAL}"
              f"{'; not checked in --quick' if args.quick else ''})"],
             args.quick or ratio >= RATIO_GOAL)
        )  # fmt: skip
        print("\nchecks:")
        for lines, ok in results:
            print(f"  [{'ok' if ok else 'FAIL'}] " + "\n         ".join(lines))
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        failed_checks = [lines[0] for lines, ok in results if not ok]
        if failed_checks:
            for child in children:
                errors = [
                    line
                    for line in child.log_path.read_text(errors="replace").splitlines()
                    if "Error" in line or "status=5" in line
                ]
                print(f"--- {child.name}: {len(errors)} error lines, the last ones ---")
                print("\n".join(errors[-8:]))
        return 1 if failed_checks else 0
    finally:
        for child in [*redis_box, *reversed(children)]:
            try:
                child.stop()
            except Exception as exc:  # noqa: BLE001 (stop the others anyway)
                print(f"could not stop {child.name}: {exc}")
        if pg_started:
            try:
                from sqlalchemy import create_engine, text

                admin = create_engine(pg.url("postgres"), isolation_level="AUTOCOMMIT")
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
                admin.dispose()
            finally:
                pg.stop()
        if args.keep:
            print(f"logs kept in {directory}")
        else:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
