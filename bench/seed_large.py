"""Seed a large, realistic Tribune database fast: articles, authors, comments in every state,
flags, reports, polls and ballots, with every counter true.

    .venv/bin/python bench/seed_large.py --database-url sqlite:///big.db --migrate \\
        --articles 100000 --comments 1000000 --held-share 0.02
    .venv/bin/python bench/seed_large.py --database-url postgresql://postgres@127.0.0.1/big \\
        --migrate --articles 5000 --comments 1000000 --held-share 0.1   # issue 4's queue

Rows go in with executemany on SQLite and COPY on PostgreSQL, article block by article block;
secondary indexes are dropped during the load and rebuilt after (--keep-indexes to skip that).
Counters are computed while generating (articles.comment_count/vote_count, polls, options,
users.*_count, queue_counters via moderation.queue.queue_memberships) and added to whatever the
database held, so a database with true counters stays true; --verify (default) runs
tallies.recount afterwards in a rolled-back transaction and fails on any drift.
Ids of new rows continue after the current maximum, names carry --tag, so seeding twice adds.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from werkzeug.security import generate_password_hash  # noqa: E402

from config import normalise_database_url  # noqa: E402
from db import make_engine  # noqa: E402
from migrations import upgrade_database  # noqa: E402
from models import Base, CommentState  # noqa: E402
from moderation.queue import queue_memberships  # noqa: E402
from writes.driver import dbapi  # noqa: E402

TABLES = (
    "users",
    "articles",
    "comments",
    "flags",
    "reports",
    "polls",
    "poll_options",
    "ballots",
    "ballot_choices",
)
WORDS = [
    "Defour",
    "Mechelen",
    "Anderlecht",
    "Standard",
    "Club",
    "Brugge",
    "Genk",
    "Gent",
    "Antwerp",
    "Union",
    "STVV",
    "Cercle",
    "transfer",
    "trainer",
    "doelman",
    "spits",
    "verdediger",
    "derby",
    "beker",
    "titel",
    "play-offs",
    "Jupiler",
    "Pro",
    "League",
    "supporters",
    "tribune",
    "scheidsrechter",
    "VAR",
    "penalty",
    "buitenspel",
    "wissel",
    "contract",
    "mercato",
]
OPENERS = (
    "Eindelijk",
    "Typisch",
    "Niet te geloven",
    "Terecht",
    "Zonde",
    "Schitterend",
    "Hopelijk",
    "Wat een",
)
# (flag code, reason, severity, Dutch detail) as screening would store them.
HOLD_FLAGS = (
    ("insult", "beledigend", 20, "sukkel"),
    ("curse", "beledigend", 20, "verdomme"),
    ("link", "spam", 20, "example.com"),
    ("shouting", "andere", 20, None),
    ("phone_number", "persoonsgegevens", 20, None),
    ("threat", "bedreiging", 20, "ik weet waar"),
    ("premoderated", "andere", 25, None),
)
REJECT_FLAGS = (
    ("slur", "racisme", 30, "[slur]"),
    ("severe_insult", "beledigend", 30, "[insult]"),
)
REPORT_REASONS = ("beledigend", "racisme", "spam", "off-topic", "andere", "bedreiging")


@dataclass
class Plan:
    articles: int
    comments: int
    authors: int
    held_share: float
    rejected_share: float
    removed_share: float
    deleted_share: float
    reply_share: float
    reported_share: float
    reviewed_share: float
    poll_share: float
    ballots_per_poll: int
    quarantined_share: float
    tag: str
    seed: int
    block: int


@dataclass
class Totals:
    rows: Counter[str] = field(default_factory=Counter)
    queues: Counter[str] = field(default_factory=Counter)


class Writer:
    """Bulk inserts through the driver: executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.raw = engine.raw_connection()
        self.conn = dbapi(self.raw)
        self.cursor = self.conn.cursor()
        if self.dialect == "sqlite":
            self.cursor.execute("PRAGMA synchronous=OFF")
            self.cursor.execute("PRAGMA cache_size=-262144")
            self.cursor.execute("BEGIN")

    def scalar(self, sql: str) -> Any:
        self.cursor.execute(sql)
        row = self.cursor.fetchone()
        return row[0] if row else None

    def value(self, value: Any) -> Any:
        """Python values as the column types store them on this database."""
        if isinstance(value, datetime) and self.dialect == "sqlite":
            # What UTCDateTime + SQLite's DateTime write: naive UTC text with microseconds.
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        names = ", ".join(f'"{c}"' for c in columns)
        count = 0
        if self.dialect == "postgresql":
            with self.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        marks = ", ".join("?" for _ in columns)
        batch = [tuple(self.value(v) for v in row) for row in rows]
        self.cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", batch)
        return len(batch)

    def execute_many(self, sql: str, rows: list[Sequence[Any]]) -> None:
        if self.dialect == "postgresql":
            sql = sql.replace("?", "%s")
        self.cursor.executemany(sql, [tuple(self.value(v) for v in row) for row in rows])

    def secondary_indexes(self) -> list[tuple[str, str]]:
        """(name, DDL) of the plain indexes on the seeded tables (not PK/unique constraints)."""
        names = ", ".join(f"'{t}'" for t in TABLES)
        if self.dialect == "sqlite":
            self.cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({names}) AND sql NOT LIKE 'CREATE UNIQUE%'"
            )
        else:
            self.cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = "
                f"current_schema() AND i.tablename IN ({names}) AND i.indexdef NOT LIKE "
                "'CREATE UNIQUE%' AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "WHERE c.conname = i.indexname)"
            )
        return [(name, ddl) for name, ddl in self.cursor.fetchall()]

    def commit(self) -> None:
        if self.dialect == "sqlite":
            self.cursor.execute("COMMIT")
        else:
            self.conn.commit()

    def close(self) -> None:
        self.cursor.close()
        self.raw.close()


def _next_id(writer: Writer, table: str) -> int:
    return int(writer.scalar(f"SELECT COALESCE(MAX(id), 0) FROM {table}")) + 1


def _check_columns(provided: dict[str, Sequence[str]]) -> None:
    """Fail early if the schema grew a required column this seeder does not fill."""
    for table, columns in provided.items():
        model_table = Base.metadata.tables[table]
        missing = [
            column.name
            for column in model_table.columns
            if not column.nullable
            and column.name not in columns
            and column.server_default is None
            and not (column.primary_key and column.autoincrement in (True, "auto"))
        ]
        if missing:
            raise SystemExit(f"seed_large: {table} needs columns {missing}; update the seeder")


USER_COLUMNS = [
    "id",
    "username",
    "username_key",
    "email",
    "password_hash",
    "role",
    "is_active",
    "created_at",
    "session_version",
    "published_count",
    "held_count",
    "rejected_count",
]
ARTICLE_COLUMNS = [
    "id",
    "cms_id",
    "title",
    "url",
    "teaser",
    "published_at",
    "comment_mode",
    "comment_count",
    "vote_count",
    "created_at",
    "updated_at",
]
COMMENT_COLUMNS = [
    "id",
    "article_id",
    "author_id",
    "parent_id",
    "root_id",
    "depth",
    "body",
    "state",
    "created_at",
    "updated_at",
    "queued_at",
    "report_score",
    "report_count",
    "top_severity",
    "top_reason",
    "reviewed_at",
    "decision_reason",
]
FLAG_COLUMNS = [
    "comment_id",
    "code",
    "reason",
    "severity",
    "detail",
    "span_start",
    "span_end",
    "created_at",
]
REPORT_COLUMNS = [
    "comment_id",
    "reporter_id",
    "reason",
    "note",
    "weight",
    "outcome",
    "created_at",
    "resolved_at",
]
POLL_COLUMNS = [
    "id",
    "article_id",
    "question",
    "max_choices",
    "opens_at",
    "results_visibility",
    "voter_scope",
    "created_at",
    "updated_at",
    "ballot_count",
]
OPTION_COLUMNS = ["id", "poll_id", "position", "label", "vote_count"]
BALLOT_COLUMNS = [
    "id",
    "poll_id",
    "voter_key",
    "created_at",
    "is_suspicious",
    "suspicion",
    "quarantined_at",
]
CHOICE_COLUMNS = ["ballot_id", "option_id"]


def _sentence(rng: random.Random, length: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(length))


def _skewed(rng: random.Random, n: int, power: float) -> int:
    """An index in [0, n) with low indices (the newest articles, the keenest fans) favoured."""
    return min(n - 1, int(n * rng.random() ** power))


def seed(engine: Engine, plan: Plan, now: datetime, keep_indexes: bool, log: Any) -> Totals:
    """Insert everything the plan asks for; counters included. Returns the row counts."""
    _check_columns(
        {
            "users": USER_COLUMNS,
            "articles": ARTICLE_COLUMNS,
            "comments": COMMENT_COLUMNS,
            "flags": FLAG_COLUMNS,
            "reports": REPORT_COLUMNS,
            "polls": POLL_COLUMNS,
            "poll_options": OPTION_COLUMNS,
            "ballots": BALLOT_COLUMNS,
            "ballot_choices": CHOICE_COLUMNS,
        }
    )
    rng = random.Random(plan.seed)
    writer = Writer(engine)
    totals = Totals()
    dropped: list[tuple[str, str]] = []
    try:
        if not keep_indexes:
            dropped = writer.secondary_indexes()
            for name, _ddl in dropped:
                writer.cursor.execute(f'DROP INDEX "{name}"')
        first = {table: _next_id(writer, table) for table in TABLES if table != "ballot_choices"}
        tag = plan.tag

        # Authors: one precomputed password hash for all (scrypt costs ~80 ms each).
        password_hash = generate_password_hash("tribune-bench")
        user_ids = [first["users"] + i for i in range(plan.authors)]
        author_counts = {uid: Counter() for uid in user_ids}
        user_created = [now - timedelta(days=rng.uniform(30, 1500)) for _ in user_ids]

        # How many comments each article gets: skewed towards the newest articles.
        per_article = [0] * plan.articles
        for _ in range(plan.comments):
            per_article[_skewed(rng, plan.articles, 2.2)] += 1

        comment_id = first["comments"]
        poll_id, option_id, ballot_id = first["polls"], first["poll_options"], first["ballots"]
        t0 = time.perf_counter()
        for block_start in range(0, plan.articles, plan.block):
            block = range(block_start, min(plan.articles, block_start + plan.block))
            articles, comments, flags, reports = [], [], [], []
            polls, options, ballots, choices = [], [], [], []
            for index in block:
                article_id = first["articles"] + index
                published = now - timedelta(minutes=7 * index + rng.uniform(0, 5))
                published_comments: list[tuple[int, int, int]] = []  # (id, root, depth)
                comment_count = 0
                for _ in range(per_article[index]):
                    author = user_ids[_skewed(rng, plan.authors, 1.8)]
                    created = published + timedelta(minutes=rng.uniform(1, 60 * 24 * 3))
                    roll = rng.random()
                    if roll < plan.held_share:
                        state = CommentState.HELD
                    elif roll < plan.held_share + plan.rejected_share:
                        state = CommentState.REJECTED
                    elif roll < plan.held_share + plan.rejected_share + plan.removed_share:
                        state = CommentState.REMOVED
                    elif roll < (
                        plan.held_share
                        + plan.rejected_share
                        + plan.removed_share
                        + plan.deleted_share
                    ):
                        state = CommentState.DELETED
                    else:
                        state = CommentState.PUBLISHED
                    parent = root = None
                    depth = 0
                    if published_comments and rng.random() < plan.reply_share:
                        parent, parent_root, parent_depth = rng.choice(published_comments)
                        root = parent_root or parent
                        depth = min(parent_depth + 1, 6)
                    body = f"{rng.choice(OPENERS)}: {_sentence(rng, rng.randint(6, 24))}."
                    queued_at = reviewed_at = decision = top_reason = None
                    top_severity, report_count, report_score = 0, 0, 0.0
                    flag = None
                    if state is CommentState.HELD:
                        flag = rng.choice(HOLD_FLAGS)
                        queued_at = created
                    elif state is CommentState.REJECTED:
                        flag = rng.choice(REJECT_FLAGS)
                        decision = flag[1]
                        if rng.random() < 0.3:  # held first, then rejected by a moderator
                            reviewed_at = created + timedelta(minutes=rng.uniform(2, 240))
                    elif state is CommentState.REMOVED:
                        decision = rng.choice(REPORT_REASONS)
                        reviewed_at = created + timedelta(minutes=rng.uniform(5, 600))
                    elif state is CommentState.PUBLISHED:
                        if rng.random() < plan.reviewed_share:
                            reviewed_at = created + timedelta(minutes=rng.uniform(5, 600))
                        elif rng.random() < plan.reported_share:
                            report_count = rng.randint(1, 2)
                            report_score = float(report_count)
                            queued_at = created + timedelta(minutes=rng.uniform(1, 120))
                    if flag is not None:
                        code, reason, severity, detail = flag
                        top_severity, top_reason = severity, reason
                        start = rng.randint(0, max(0, len(body) - 8))
                        flags.append(
                            (comment_id, code, reason, severity, detail, start, start + 6, created)
                        )
                    reporters = (
                        rng.sample(user_ids, min(len(user_ids), report_count + 1))
                        if report_count
                        else []
                    )
                    for reporter in [r for r in reporters if r != author][:report_count]:
                        reports.append(
                            (
                                comment_id,
                                reporter,
                                rng.choice(REPORT_REASONS),
                                None,
                                1.0,
                                "pending",
                                queued_at,
                                None,
                            )
                        )
                    if state is CommentState.REMOVED:
                        reporter = user_ids[(author - user_ids[0] + 1) % len(user_ids)]
                        if reporter != author:
                            reports.append(
                                (
                                    comment_id,
                                    reporter,
                                    decision,
                                    None,
                                    1.0,
                                    "upheld",
                                    created,
                                    reviewed_at,
                                )
                            )
                    updated = reviewed_at or created
                    comments.append(
                        (
                            comment_id,
                            article_id,
                            author,
                            parent,
                            root,
                            depth,
                            body,
                            state.value,
                            created,
                            updated,
                            queued_at,
                            report_score,
                            report_count,
                            top_severity,
                            top_reason,
                            reviewed_at,
                            decision,
                        )
                    )
                    memberships = queue_memberships(
                        SimpleNamespace(state=state, queued_at=queued_at, reviewed_at=reviewed_at)
                    )
                    totals.queues.update(memberships)
                    author_counts[author][state] += 1
                    if state is CommentState.PUBLISHED:
                        comment_count += 1
                        published_comments.append((comment_id, root or 0, depth))
                    comment_id += 1

                vote_count = 0
                if rng.random() < plan.poll_share:
                    counted_by_option = Counter()
                    option_ids = [option_id + i for i in range(3)]
                    option_id += 3
                    n_ballots = rng.randint(
                        plan.ballots_per_poll // 2, plan.ballots_per_poll * 3 // 2
                    )
                    for number in range(n_ballots):
                        chosen = rng.choice(option_ids)
                        quarantined = rng.random() < plan.quarantined_share
                        cast = published + timedelta(minutes=rng.uniform(1, 600))
                        ballots.append(
                            (
                                ballot_id,
                                poll_id,
                                f"a:{tag}-{poll_id}-{number}",
                                cast,
                                quarantined,
                                "burst" if quarantined else None,
                                cast + timedelta(minutes=30) if quarantined else None,
                            )
                        )
                        choices.append((ballot_id, chosen))
                        if not quarantined:
                            counted_by_option[chosen] += 1
                        ballot_id += 1
                    counted = sum(counted_by_option.values())
                    polls.append(
                        (
                            poll_id,
                            article_id,
                            "Wie wordt kampioen?",
                            1,
                            published,
                            "always",
                            "everyone",
                            published,
                            published,
                            counted,
                        )
                    )
                    for position, oid in enumerate(option_ids):
                        options.append(
                            (
                                oid,
                                poll_id,
                                position,
                                ("Ja", "Nee", "Weet niet")[position],
                                counted_by_option[oid],
                            )
                        )
                    vote_count += counted
                    poll_id += 1
                articles.append(
                    (
                        article_id,
                        f"{tag}-{index:06d}",
                        f"{rng.choice(OPENERS)}: {_sentence(rng, rng.randint(4, 9))}"[:300],
                        None,
                        _sentence(rng, rng.randint(12, 24)),
                        published,
                        "open",
                        comment_count,
                        vote_count,
                        published,
                        published,
                    )
                )
            if block_start == 0:
                writer.insert(
                    "users",
                    USER_COLUMNS,
                    (
                        (
                            uid,
                            f"{tag}fan{uid}",
                            f"{tag}fan{uid}".lower(),
                            f"{tag}fan{uid}@bench.tribune.test",
                            password_hash,
                            "fan",
                            True,
                            created,
                            1,
                            0,
                            0,
                            0,
                        )
                        for uid, created in zip(user_ids, user_created, strict=True)
                    ),
                )
            for table, columns, rows in (
                ("articles", ARTICLE_COLUMNS, articles),
                ("comments", COMMENT_COLUMNS, comments),
                ("flags", FLAG_COLUMNS, flags),
                ("reports", REPORT_COLUMNS, reports),
                ("polls", POLL_COLUMNS, polls),
                ("poll_options", OPTION_COLUMNS, options),
                ("ballots", BALLOT_COLUMNS, ballots),
                ("ballot_choices", CHOICE_COLUMNS, choices),
            ):
                if rows:
                    totals.rows[table] += writer.insert(table, columns, rows)
            done = block.stop
            if done % max(plan.block, plan.articles // 10) == 0 or done == plan.articles:
                log(
                    f"  {done:>8} articles, {totals.rows['comments']:>9} comments "
                    f"({time.perf_counter() - t0:.1f}s)"
                )
        totals.rows["users"] = len(user_ids)

        # Author track records and queue sizes: added to what is there, so they stay true.
        writer.execute_many(
            "UPDATE users SET published_count = published_count + ?, held_count = held_count + ?,"
            " rejected_count = rejected_count + ? WHERE id = ?",
            [
                (
                    counts[CommentState.PUBLISHED],
                    counts[CommentState.HELD],
                    counts[CommentState.REJECTED],
                    uid,
                )
                for uid, counts in author_counts.items()
                if counts
            ],
        )
        # users.last_rejected_at may not lie before any rejected or removed comment of the
        # author (posting relies on it to skip the rejection-rate query).
        writer.cursor.execute(
            "UPDATE users SET last_rejected_at = m.latest FROM (SELECT author_id,"
            " max(created_at) AS latest FROM comments WHERE state IN ('rejected', 'removed')"
            " GROUP BY author_id) AS m WHERE users.id = m.author_id"
            " AND (users.last_rejected_at IS NULL OR users.last_rejected_at < m.latest)"
        )
        for name in sorted(totals.queues):
            writer.cursor.execute(
                "SELECT count FROM queue_counters WHERE name = "
                + ("?" if writer.dialect == "sqlite" else "%s"),
                (name,),
            )
            if writer.cursor.fetchone() is None:
                writer.execute_many(
                    "INSERT INTO queue_counters (name, count) VALUES (?, ?)",
                    [(name, totals.queues[name])],
                )
            else:
                writer.execute_many(
                    "UPDATE queue_counters SET count = count + ? WHERE name = ?",
                    [(totals.queues[name], name)],
                )
        if writer.dialect == "postgresql":
            for table in TABLES:
                if table != "ballot_choices":
                    writer.cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
        if dropped:
            t1 = time.perf_counter()
            for _name, ddl in dropped:
                writer.cursor.execute(ddl)
            log(f"  rebuilt {len(dropped)} indexes ({time.perf_counter() - t1:.1f}s)")
        writer.commit()
    finally:
        writer.close()
    return totals


def verify(engine: Engine) -> list[Any]:
    """Run tallies.recount in a transaction that is rolled back; returns the drift found."""
    from tallies.recount import recount

    with Session(engine) as session:
        drifts = recount(session)
        session.rollback()
    return drifts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="default: instance/tribune.db")
    parser.add_argument("--migrate", action="store_true", help="alembic upgrade head first")
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--comments", type=int, default=10000)
    parser.add_argument("--authors", type=int, default=5000)
    parser.add_argument("--held-share", type=float, default=0.1)
    parser.add_argument("--rejected-share", type=float, default=0.03)
    parser.add_argument("--removed-share", type=float, default=0.01)
    parser.add_argument("--deleted-share", type=float, default=0.01)
    parser.add_argument("--reply-share", type=float, default=0.35)
    parser.add_argument("--reported-share", type=float, default=0.03)
    parser.add_argument("--reviewed-share", type=float, default=0.5)
    parser.add_argument("--poll-share", type=float, default=0.05, help="articles with a poll")
    parser.add_argument("--ballots-per-poll", type=int, default=40)
    parser.add_argument("--quarantined-share", type=float, default=0.05)
    parser.add_argument("--tag", default="bench", help="prefix of cms ids and usernames")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--block", type=int, default=2000, help="articles per insert batch")
    parser.add_argument("--keep-indexes", action="store_true", help="do not drop and rebuild")
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    args = parser.parse_args(argv)

    url = args.database_url
    if url is None:
        url = f"sqlite:///{Path(__file__).resolve().parent.parent / 'instance' / 'tribune.db'}"
    url = normalise_database_url(url)
    if args.migrate:
        upgrade_database(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        taken = conn.execute(
            select(func.count()).select_from(text("articles")).where(text("cms_id LIKE :p")),
            {"p": f"{args.tag}-%"},
        ).scalar()
    if taken:
        raise SystemExit(f"seed_large: articles tagged {args.tag!r} exist; pass another --tag")
    plan = Plan(
        args.articles,
        args.comments,
        max(2, args.authors),
        args.held_share,
        args.rejected_share,
        args.removed_share,
        args.deleted_share,
        args.reply_share,
        args.reported_share,
        args.reviewed_share,
        args.poll_share,
        args.ballots_per_poll,
        args.quarantined_share,
        args.tag,
        args.seed,
        args.block,
    )
    started = time.perf_counter()
    print(f"seeding {engine.dialect.name}: {plan.articles} articles, {plan.comments} comments")
    totals = seed(engine, plan, datetime.now(UTC), args.keep_indexes, print)
    elapsed = time.perf_counter() - started
    rows = ", ".join(f"{table} {count}" for table, count in totals.rows.items())
    print(f"seeded in {elapsed:.1f}s: {rows}")
    print("queues added: " + ", ".join(f"{k} {v}" for k, v in sorted(totals.queues.items())))
    if args.verify:
        t0 = time.perf_counter()
        drifts = verify(engine)
        print(f"recount: {len(drifts)} drifts ({time.perf_counter() - t0:.1f}s)")
        for drift in drifts[:20]:
            print(f"  {drift}")
        if drifts:
            return 1
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
