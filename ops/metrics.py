"""Prometheus metrics: what Tribune counts, and the scrape that adds what is read from the rows.

Works in one process, and under gunicorn in prometheus-client's multiprocess mode: when
PROMETHEUS_MULTIPROC_DIR is set before the first import of prometheus_client, every worker
writes its values to files in that directory and a scrape of any worker adds them all up
(gunicorn.conf.py clears the directory at start and marks dead workers in `child_exit`).

The counters change where the thing happens, cheaply (an addition, or an mmap write in
multiprocess mode): requests in ops.web's request hooks, votes and comments after the commit
that stored them (record_on_commit + listen), pool checkouts from the engine's pool events,
Redis errors from the client (CountingRedis). Queue sizes, the oldest wait and the outbox
backlog are read from the database at scrape time only (ScrapeCollector): no hot path pays.

No flask here: services import record_on_commit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import redis
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# Pages answer in milliseconds; a slow PostgreSQL or a cold cache in hundreds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUESTS = Counter(
    "tribune_http_requests",
    "HTTP requests answered, by route (the URL rule, not the path), method and status.",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "tribune_http_request_duration_seconds",
    "Time from the request's start to its answer, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
VOTES = Counter("tribune_votes_cast", "Ballots stored (committed); a repeat vote is not one.")
COMMENTS = Counter(
    "tribune_comments_posted",
    "Comments stored (committed), by the screening's decision.",
    ["decision"],
)
REDIS_ERRORS = Counter(
    "tribune_redis_errors",
    "Redis commands that failed (connection refused, timeout, …), by command.",
    ["operation"],
)
POOL_CHECKED_OUT = Gauge(
    "tribune_db_pool_checked_out",
    "Database connections checked out of the pools (all live workers added up).",
    multiprocess_mode="livesum",
)
COMMENT_DECISIONS = ("published", "held", "rejected")
for _decision in COMMENT_DECISIONS:  # every decision shows, at 0 until the first comment
    COMMENTS.labels(_decision)

# Methods a label may name; any other (a client may send any token) is counted as OTHER, so a
# client cannot grow the number of series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_request_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration (the labelled children are looked up once
    per route, method and status: labels() takes a lock and builds a key each time)."""
    key = (route, method, status)
    series = _request_series.get(key)
    if series is None:
        label = method if method in METHODS else "OTHER"
        series = (REQUESTS.labels(route, label, str(status)), LATENCY.labels(route, label))
        _request_series[key] = series
    series[0].inc()
    series[1].observe(seconds)


# session.info key: what the session's transaction stored, counted once it commits.
PENDING = "tribune.metrics_pending"


def multiprocess_dir() -> str | None:
    """The multiprocess directory, when prometheus-client runs in multiprocess mode."""
    return os.environ.get(MULTIPROCESS_DIR) or None


# ---------------------------------------------------------------- counted on commit


def record_on_commit(session: Session, metric: str, label: str | None = None) -> None:
    """Count `metric` (`votes` or `comments` with its decision) when the session commits."""
    session.info.setdefault(PENDING, []).append((metric, label))


def _count(pending: list[tuple[str, str | None]]) -> None:
    for metric, label in pending:
        if metric == "votes":
            VOTES.inc()
        elif metric == "comments" and label in COMMENT_DECISIONS:
            COMMENTS.labels(label).inc()


def listen(factory: sessionmaker[Session]) -> None:
    """Count what a session recorded after its commit; forget it on rollback."""

    @event.listens_for(factory, "after_commit")
    def _after_commit(session: Session) -> None:
        pending = session.info.pop(PENDING, None)
        if pending:
            _count(pending)

    @event.listens_for(factory, "after_rollback")
    def _after_rollback(session: Session) -> None:
        session.info.pop(PENDING, None)


# ---------------------------------------------------------------- pool and Redis


def watch_pool(engine: Engine) -> None:
    """Keep tribune_db_pool_checked_out in step with the engine's pool."""

    @event.listens_for(engine, "checkout")
    def _checkout(*_args: Any) -> None:
        POOL_CHECKED_OUT.inc()

    @event.listens_for(engine, "checkin")
    def _checkin(*_args: Any) -> None:
        POOL_CHECKED_OUT.dec()


COUNTED = "tribune_counted"  # set on a Redis error this module has counted already


class CountingRedis(redis.Redis):
    """A redis.Redis that counts its failed commands in tribune_redis_errors_total."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return super().execute_command(*args, **options)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            count_redis_error(exc, str(args[0]).lower() if args else "unknown")
            raise


def count_redis_error(exc: BaseException, operation: str) -> None:
    """Count a Redis error once, however many layers see it."""
    if getattr(exc, COUNTED, False):
        return
    REDIS_ERRORS.labels(operation).inc()
    with suppress(AttributeError):
        setattr(exc, COUNTED, True)


# ---------------------------------------------------------------- the scrape


class ScrapeCollector:
    """Reads, at scrape time, what the rows say: queue sizes (the queue counters), the oldest
    held comment's wait, the outbox backlog by state, and whether the database answered."""

    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def collect(self) -> Iterator[Metric]:
        from models import Comment, CommentState, OutboxMessage, QueueCounter
        from models.outbox import MessageState

        queue = GaugeMetricFamily(
            "tribune_moderation_queue_size",
            "Items waiting in each moderation queue (the queue counters).",
            labels=["queue"],
        )
        oldest = GaugeMetricFamily(
            "tribune_moderation_oldest_wait_seconds",
            "How long the oldest held comment has waited (0 when none is held).",
        )
        outbox = GaugeMetricFamily(
            "tribune_outbox_backlog",
            "Outbox messages (mail, webhooks) not yet sent, by state.",
            labels=["state"],
        )
        up = GaugeMetricFamily(
            "tribune_database_up", "1 when the scrape could read the database, else 0."
        )
        waiting = [s for s in MessageState if s is not MessageState.SENT]
        try:
            with self.session_factory() as session:
                counters = session.execute(select(QueueCounter.name, QueueCounter.count)).all()
                head = session.scalar(
                    select(Comment.queued_at)
                    .where(Comment.state == CommentState.HELD, Comment.queued_at.is_not(None))
                    .order_by(Comment.queued_at)
                    .limit(1)
                )
                rows = session.execute(
                    select(OutboxMessage.state, func.count())
                    .where(OutboxMessage.state.in_(waiting))
                    .group_by(OutboxMessage.state)
                ).all()
                backlog: dict[MessageState, int] = {state: count for state, count in rows}
        except Exception:  # the database is down: say so, keep the rest of the scrape
            log.warning("metrics scrape could not read the database", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        for name, count in sorted(counters):
            queue.add_metric([name], count)
        waited = 0.0
        if head is not None:
            if head.tzinfo is None:
                head = head.replace(tzinfo=UTC)
            waited = max(0.0, (datetime.now(UTC) - head).total_seconds())
        oldest.add_metric([], waited)
        for state in waiting:
            outbox.add_metric([state.value], backlog.get(state, 0))
        yield from (up, queue, oldest, outbox)


class _ThisProcess:
    """The default registry's metrics (single-process mode) as one collector."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def render(scrape: ScrapeCollector) -> tuple[bytes, str]:
    """The text exposition of every worker's metrics plus the scrape-time ones."""
    registry = CollectorRegistry()
    directory = multiprocess_dir()
    if directory:
        MultiProcessCollector(registry, path=directory)
    else:
        registry.register(_ThisProcess())
    registry.register(scrape)
    return generate_latest(registry), CONTENT_TYPE_LATEST
