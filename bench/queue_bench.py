"""The moderation queue under load: every tab, filter and sort, and the counts endpoint, timed on
the server on SQLite and PostgreSQL, with the query plans that serve them.

    .venv/bin/python bench/queue_bench.py                        # 1,000,000 comments, both DBs
    .venv/bin/python bench/queue_bench.py --comments 50000 --articles 500 --db sqlite   # quick

Seeds with bench/seed_large.py (issue 4's shape: 5,000 articles, 10 % held) plus pending
appeals and a moderator. SQLite databases are kept in bench/results/ and reused when the sizes
match (--reseed to rebuild); PostgreSQL uses a throwaway database (tribune_bench_queue) that is
created and dropped by this script (--keep-postgres to leave it).

Server time is the wall time of a request through the Flask test client against create_app
(routing, session, queries, template), logged in as a moderator: --repeat runs per case after
one warm-up, median reported, PASS when under --budget milliseconds. The service functions
(triage.list_queue, tab_counts, oldest_waiting) are timed on their own as well.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import seed_large  # noqa: E402
from sqlalchemy import create_engine, func, select, text, update  # noqa: E402
from sqlalchemy.engine import Engine, make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from app import create_app  # noqa: E402
from config import normalise_database_url  # noqa: E402
from db import make_engine  # noqa: E402
from models import (  # noqa: E402
    Appeal,
    AppealState,
    Article,
    Comment,
    CommentState,
    QueueCounter,
    Role,
    User,
    utcnow,
)
from moderation.queue import APPEALS  # noqa: E402
from moderation.triage import (  # noqa: E402
    PAGE_SIZE,
    QueueFilter,
    _base_query,
    list_queue,
    oldest_waiting,
    tab_counts,
)

RESULTS = ROOT / "bench" / "results"
MODERATOR = "bench-moderator"
PASSWORD = "bench-moderator-password"
PG_NAME = "tribune_bench_queue"
ITEM = re.compile(r'id="item-(\d+)"')


@dataclass(frozen=True)
class Case:
    name: str
    query: str  # the /moderatie/ query string ("" for the default page)
    flt: QueueFilter | None  # None for the counts endpoint


@dataclass
class Timing:
    case: Case
    http_ms: float
    service_ms: float
    items: int


# ---------------------------------------------------------------- seeding


def seeded(engine: Engine) -> bool:
    with engine.connect() as conn:
        try:
            return bool(
                conn.execute(text("SELECT 1 FROM users WHERE username = :u"), {"u": MODERATOR})
                .scalars()
                .first()
            )
        except Exception:
            return False


def seed(url: str, args: argparse.Namespace) -> None:
    """Seed with the shared seeder, then add a moderator and pending appeals."""
    argv = [
        "--database-url",
        url,
        "--migrate",
        "--articles",
        str(args.articles),
        "--comments",
        str(args.comments),
        "--authors",
        str(args.authors),
        "--held-share",
        str(args.held_share),
        "--tag",
        "bench",
    ]
    if not args.verify:
        argv.append("--no-verify")
    if seed_large.main(argv) != 0:
        raise SystemExit("queue_bench: seeding failed (counter drift)")
    engine = make_engine(url)
    with Session(engine) as session:
        session.add(
            User(
                username=MODERATOR,
                username_key=MODERATOR,
                email="bench-moderator@example.test",
                password_hash=generate_password_hash(PASSWORD, "pbkdf2:sha256:1"),
                role=Role.MODERATOR,
            )
        )
        rejected = session.execute(
            select(Comment.id, Comment.author_id)
            .where(Comment.state == CommentState.REJECTED)
            .order_by(Comment.id)
            .limit(args.appeals)
        ).all()
        now = utcnow()
        session.add_all(
            Appeal(
                comment_id=comment_id,
                author_id=author_id,
                body="Dit was niet beledigend bedoeld.",
                state=AppealState.PENDING,
                created_at=now,
            )
            for comment_id, author_id in rejected
        )
        changed = session.execute(
            update(QueueCounter)
            .where(QueueCounter.name == APPEALS)
            .values(count=QueueCounter.count + len(rejected))
        )
        if changed.rowcount == 0:  # type: ignore[attr-defined]
            session.add(QueueCounter(name=APPEALS, count=len(rejected)))
        session.commit()
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    engine.dispose()
    print(f"added {MODERATOR} and {len(rejected)} pending appeals; ANALYZE done")


def sqlite_url(args: argparse.Namespace) -> str:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"queue_{args.comments}_{args.articles}_{args.held_share}.db"
    if args.reseed and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    if not path.exists() or not seeded(make_engine(url)):
        path.unlink(missing_ok=True)
        seed(url, args)
    else:
        print(f"reusing {path.relative_to(ROOT)}")
    return url


def postgres_url(args: argparse.Namespace) -> tuple[str, Engine]:
    server = normalise_database_url(args.postgres)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    url = make_url(server).set(database=PG_NAME).render_as_string(hide_password=False)
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_NAME}
        ).scalar()
    if exists and args.keep_postgres and not args.reseed and seeded(make_engine(url)):
        print(f"reusing database {PG_NAME} (--keep-postgres)")
        return url, admin
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{PG_NAME}"'))
    seed(url, args)
    return url, admin


# ---------------------------------------------------------------- cases


def busiest(session: Session, column: Any) -> Any:
    """The value of `column` with the most held comments (the worst case for a filter)."""
    return session.execute(
        select(column)
        .where(Comment.state == CommentState.HELD)
        .group_by(column)
        .order_by(func.count().desc())
        .limit(1)
    ).scalar()


def cases(session: Session) -> list[Case]:
    article_id = busiest(session, Comment.article_id)
    cms_id = session.scalar(select(Article.cms_id).where(Article.id == article_id))
    author_id = busiest(session, Comment.author_id)
    author = session.scalar(select(User.username).where(User.id == author_id))
    quiet = session.scalar(
        select(Article.cms_id).order_by(Article.comment_count.asc(), Article.id).limit(1)
    )
    reason = busiest(session, Comment.top_reason)
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("wachtrij (oudste)", "", {}),
        ("wachtrij sort=meldscore", "sort=meldscore", {"sort": "meldscore"}),
        ("wachtrij sort=ernst", "sort=ernst", {"sort": "ernst"}),
        ("wachtrij pagina=40", "pagina=40", {"page": 40}),
        (f"filter artikel (busiest {cms_id})", f"artikel={cms_id}", {"article": cms_id}),
        (f"filter artikel (quiet {quiet})", f"artikel={quiet}", {"article": quiet}),
        (f"filter reden={reason}", f"reden={reason}", {"reason": reason}),
        (f"filter auteur (busiest {author})", f"auteur={author}", {"author": author}),
        (
            "artikel + sort=ernst",
            f"artikel={cms_id}&sort=ernst",
            {"article": cms_id, "sort": "ernst"},
        ),
        (
            "reden + sort=meldscore",
            f"reden={reason}&sort=meldscore",
            {"reason": reason, "sort": "meldscore"},
        ),
        ("gemeld (oudste)", "tab=gemeld", {"tab": "gemeld"}),
        (
            "gemeld sort=meldscore",
            "tab=gemeld&sort=meldscore",
            {"tab": "gemeld", "sort": "meldscore"},
        ),
        ("recent", "tab=recent", {"tab": "recent"}),
        ("goedgekeurd", "tab=goedgekeurd", {"tab": "goedgekeurd"}),
        ("afgewezen", "tab=afgewezen", {"tab": "afgewezen"}),
        ("bezwaren", "tab=bezwaren", {"tab": "bezwaren"}),
    ]
    made = [Case(name, query, QueueFilter(**flt)) for name, query, flt in rows]
    made.append(Case("tellers (counts endpoint)", "", None))
    return made


# ---------------------------------------------------------------- timing


def median_ms(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = run()  # warm-up (and the result to check)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def time_cases(url: str, args: argparse.Namespace) -> list[Timing]:
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench",
            "WTF_CSRF_ENABLED": False,
            "TRIBUNE_RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "REDIS_URL": None,
        }
    )
    client = app.test_client()
    login = client.post("/login", data={"login": MODERATOR, "password": PASSWORD})
    assert login.status_code == 302, "bench moderator could not log in"
    sessionmaker = app.extensions["tribune.sessionmaker"]
    timings = []
    with sessionmaker() as session:
        todo = cases(session)
    for case in todo:
        path = "/moderatie/tellers" if case.flt is None else f"/moderatie/?{case.query}"

        def request(path: str = path) -> Any:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            return response

        http, response = median_ms(request, args.repeat)
        with sessionmaker() as session:
            if case.flt is None:

                def service(session: Session = session) -> Any:
                    return tab_counts(session), oldest_waiting(session)

            else:

                def service(session: Session = session, flt: QueueFilter = case.flt) -> Any:
                    return list_queue(session, flt)

            service_ms, _ = median_ms(service, args.repeat)
        items = (
            sum(response.get_json()["tabs"].values())
            if case.flt is None
            else len(ITEM.findall(response.get_data(as_text=True)))
        )
        timings.append(Timing(case, http, service_ms, items))
    app.extensions["tribune.engine"].dispose()
    return timings


# ---------------------------------------------------------------- plans


def plan_lines(engine: Engine, flt: QueueFilter | None) -> list[str]:
    with Session(engine) as session:
        if flt is None:
            stmt = (
                select(Comment.queued_at)
                .where(Comment.state == CommentState.HELD, Comment.queued_at.is_not(None))
                .order_by(Comment.queued_at)
                .limit(1)
            )
        else:
            stmt = _base_query(session, flt).limit(PAGE_SIZE).offset((flt.page - 1) * PAGE_SIZE)
        compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
        rows = session.execute(text(prefix + str(compiled))).all()
    if engine.dialect.name == "sqlite":
        return [str(row[-1]) for row in rows]
    return [str(row[0]) for row in rows]


def uses_index(dialect: str, lines: list[str]) -> bool:
    joined = "\n".join(lines)
    if dialect == "sqlite":
        scans = [line for line in lines if re.search(r"\bSCAN (comments|appeals)\b", line)]
        return "USING" in joined and not any("INDEX" not in line for line in scans)
    return "Index" in joined and "Seq Scan on comments" not in joined


# ---------------------------------------------------------------- report


def report(dialect: str, url: str, args: argparse.Namespace) -> list[Timing]:
    engine = make_engine(url)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT count(*) FROM comments")).scalar()
        held = conn.execute(text("SELECT count(*) FROM comments WHERE state = 'held'")).scalar()
        articles = conn.execute(text("SELECT count(*) FROM articles")).scalar()
    print(f"\n== {dialect}: {total:,} comments, {held:,} held, {articles:,} articles ==")
    timings = time_cases(url, args)
    width = max(len(t.case.name) for t in timings) + 2
    print(f"{'case':<{width}}{'http ms':>9}{'service ms':>12}{'items':>8}  verdict")
    for t in timings:
        verdict = "PASS" if t.http_ms < args.budget else "FAIL"
        print(
            f"{t.case.name:<{width}}{t.http_ms:>9.1f}{t.service_ms:>12.1f}{t.items:>8}  {verdict}"
        )
    failed = [t.case.name for t in timings if t.http_ms >= args.budget]
    print(
        f"{len(timings) - len(failed)}/{len(timings)} under {args.budget:.0f} ms"
        + (f"; over: {', '.join(failed)}" if failed else "")
    )
    if args.plans:
        print(f"\n-- query plans ({dialect}) --")
        for t in timings:
            lines = plan_lines(engine, t.case.flt)
            label = "oldest_waiting" if t.case.flt is None else t.case.name
            verdict = "index" if uses_index(dialect, lines) else "NO INDEX"
            print(f"[{verdict}] {label}")
            for line in lines:
                print(f"    {line}")
    engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--authors", type=int, default=20000)
    parser.add_argument("--held-share", type=float, default=0.1)
    parser.add_argument("--appeals", type=int, default=1000, help="pending appeals to add")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per case")
    parser.add_argument("--budget", type=float, default=100.0, help="milliseconds per request")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument(
        "--keep-postgres", action="store_true", help="keep (and reuse) tribune_bench_queue"
    )
    parser.add_argument("--reseed", action="store_true", help="rebuild the seeded databases")
    parser.add_argument("--verify", action="store_true", help="recount after seeding (slow)")
    parser.add_argument("--no-plans", dest="plans", action="store_false")
    args = parser.parse_args(argv)

    over = 0
    if args.db in ("sqlite", "both"):
        timings = report("sqlite", sqlite_url(args), args)
        over += sum(t.http_ms >= args.budget for t in timings)
    if args.db in ("postgresql", "both"):
        url, admin = postgres_url(args)
        try:
            timings = report("postgresql", url, args)
            over += sum(t.http_ms >= args.budget for t in timings)
        finally:
            if not args.keep_postgres:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)'))
            admin.dispose()
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
