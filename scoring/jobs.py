"""Scoring jobs: recorded with the comment (a comment.created handler, in the post's own
transaction: posting never calls the model), worked off by `tribune worker` (a worker step).

One round of a worker: drop jobs older than TRIBUNE_SCORER_MAX_AGE_SECONDS (an audit row each);
ask the breaker; claim due jobs (FOR UPDATE SKIP LOCKED, a lease, as the outbox does; one job
when the breaker is half-open); score each outside any transaction within the deadline; then, in
a short write transaction, store the scores, the flags they earn and, for a published comment a
moderator has not looked at, the move to held. A failure counts for the breaker and retries the
job later with backoff; while the breaker is open no job is claimed, so none is lost or spent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import redis
from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session

from db import begin_write
from events import DomainEvent, subscribe
from models import Comment, CommentState, Flag, ScoringJob, ScoringState
from moderation.audit import record_action
from moderation.comment_states import lock_comment, transition
from moderation.flags import Severity
from notifications.settings import setting
from outbox.delivery import SessionFactory, backoff
from outbox.worker import worker_step
from scoring.breaker import HALF_OPEN, CircuitBreaker, breaker_for
from scoring.client import ScorerFailure, ScorerTarget, score_text
from scoring.thresholds import ModelFlag, flags_for, load_thresholds

log = logging.getLogger(__name__)

BATCH = 20
DROP_BATCH = 100
ERROR_MAX = 500
SCORABLE = (CommentState.PUBLISHED, CommentState.HELD)


# ---------------------------------------------------------------- recording a job


@subscribe("comment.created")
def record_scoring_job(session: Session, event: DomainEvent) -> None:
    """A new published or held comment waits for the model (a rejected one is not scored)."""
    if not setting(session, "TRIBUNE_SCORER_URL"):
        return
    if event.data.get("state") not in (CommentState.PUBLISHED.value, CommentState.HELD.value):
        return
    session.execute(
        insert(ScoringJob).values(
            comment_id=event.data["comment_id"],
            state=ScoringState.PENDING,
            attempts=0,
            next_attempt_at=event.occurred_at,
            created_at=event.occurred_at,
        )
    )


# ---------------------------------------------------------------- services (a Session each)


def drop_expired(session: Session, max_age_seconds: int, now: datetime) -> int:
    """Give up jobs waiting longer than the limit (an audit row and a log line each)."""
    cutoff = now - timedelta(seconds=max_age_seconds)
    waiting = or_(
        ScoringJob.state == ScoringState.PENDING,
        and_(ScoringJob.state == ScoringState.SCORING, ScoringJob.lease_until < now),
    )
    jobs = session.scalars(
        select(ScoringJob)
        .where(waiting, ScoringJob.created_at < cutoff)
        .order_by(ScoringJob.id)
        .limit(DROP_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        job.state = ScoringState.DROPPED
        job.lease_until = None
        job.finished_at = now
        log.warning(
            "scoring of comment %s dropped after %s attempts: %s",
            job.comment_id,
            job.attempts,
            job.last_error or "never tried",
        )
        record_action(
            session,
            None,
            "comment",
            job.comment_id,
            "scoring_dropped",
            note=f"{job.attempts} pogingen; laatste fout: {job.last_error or 'geen'}"[:1000],
        )
    session.flush()
    return len(jobs)


def claim_jobs(session: Session, now: datetime, lease_seconds: float, limit: int) -> list[int]:
    """Take up to `limit` due jobs for this worker (the caller commits the claim)."""
    due = or_(
        and_(ScoringJob.state == ScoringState.PENDING, ScoringJob.next_attempt_at <= now),
        and_(ScoringJob.state == ScoringState.SCORING, ScoringJob.lease_until < now),
    )
    jobs = session.scalars(
        select(ScoringJob)
        .where(due)
        .order_by(ScoringJob.next_attempt_at, ScoringJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    for job in jobs:
        job.state = ScoringState.SCORING
        job.lease_until = now + timedelta(seconds=lease_seconds)
    session.flush()
    return [job.id for job in jobs]


def _held_job(session: Session, job_id: int) -> ScoringJob | None:
    """The job under a row lock, if this worker still holds it (not taken after its lease)."""
    job = session.get(ScoringJob, job_id, with_for_update=True)
    return job if job is not None and job.state is ScoringState.SCORING else None


def release_jobs(session: Session, job_ids: list[int]) -> None:
    """Give claimed jobs back untried (the breaker opened meanwhile): due again at once."""
    for job_id in job_ids:
        job = _held_job(session, job_id)
        if job is not None:
            job.state = ScoringState.PENDING
            job.lease_until = None
    session.flush()


def record_failure(
    session: Session,
    job_id: int,
    error: str,
    now: datetime,
    base_seconds: float,
    cap_seconds: float,
) -> None:
    """A failed attempt: the job waits (backoff doubling per attempt) and is tried again."""
    job = _held_job(session, job_id)
    if job is None:
        return
    job.attempts += 1
    job.state = ScoringState.PENDING
    job.lease_until = None
    job.last_error = error[:ERROR_MAX]
    job.next_attempt_at = now + backoff(job.attempts, base_seconds, cap_seconds)
    session.flush()


def _store_flags(session: Session, comment: Comment, flags: list[ModelFlag]) -> None:
    for flag in flags:
        session.add(
            Flag(
                comment_id=comment.id,
                code=flag.code.code,
                reason=flag.code.reason,
                severity=int(flag.severity),
                detail=flag.detail,
            )
        )
    strongest = max(flags, key=lambda f: f.severity)
    if strongest.severity > comment.top_severity:
        comment.top_severity = int(strongest.severity)
        comment.top_reason = strongest.code.reason.value


def apply_scores(
    session: Session, job_id: int, scores: Mapping[str, float], now: datetime
) -> list[ModelFlag]:
    """Store a job's scores; scores at or above their thresholds become flags, and a hold flag
    moves a published comment no moderator reviewed to held (automated, audited). A held comment
    stays held and nothing is ever rejected or published on a score. Returns the flags."""
    job = _held_job(session, job_id)
    if job is None:
        return []
    job.attempts += 1
    job.state = ScoringState.DONE
    job.scores = dict(scores)
    job.lease_until = None
    job.last_error = None
    job.finished_at = now
    comment = session.get(Comment, job.comment_id)
    flags = flags_for(scores, load_thresholds(session))
    if comment is None or not flags:
        session.flush()
        return flags
    lock_comment(session, comment)
    if comment.state not in SCORABLE:  # deleted or decided meanwhile: nothing to flag
        session.flush()
        return []
    _store_flags(session, comment, flags)
    holding = [flag for flag in flags if flag.severity >= Severity.HOLD]
    if (
        holding
        and comment.state is CommentState.PUBLISHED
        and comment.reviewed_at is None  # a moderator's look outweighs the model
    ):
        transition(
            session,
            comment,
            CommentState.HELD,
            "score_threshold",
            None,
            reason=holding[0].code.reason,
            note="; ".join(flag.detail for flag in holding),
            now=now,
        )
    session.flush()
    return flags


def finish_unscorable(session: Session, job_id: int, now: datetime) -> None:
    """The comment went (deleted, decided, text erased) before its turn: nothing to score."""
    job = _held_job(session, job_id)
    if job is not None:
        job.state = ScoringState.DONE
        job.lease_until = None
        job.finished_at = now
        session.flush()


def job_counts(session: Session) -> dict[ScoringState, int]:
    """How many jobs are in each state (every state, zero included)."""
    counts = dict.fromkeys(ScoringState, 0)
    for state, count in session.execute(
        select(ScoringJob.state, func.count()).group_by(ScoringJob.state)
    ):
        counts[state] = count
    return counts


# ---------------------------------------------------------------- the worker step

_redis_clients: dict[str, redis.Redis] = {}


def scorer_breaker(settings: Mapping[str, Any]) -> CircuitBreaker:
    """The breaker these settings share: in Redis when REDIS_URL is set, else this process's."""
    url = settings["REDIS_URL"]
    client = None
    if url:
        client = _redis_clients.get(url)
        if client is None:
            client = _redis_clients[url] = redis.Redis.from_url(url, socket_timeout=2)
    return breaker_for(settings, client)


def _text_of(session_factory: SessionFactory, job_id: int) -> str | None:
    """The comment's text if it can still be scored (None: deleted, decided or erased)."""
    with session_factory() as session:
        row = session.execute(
            select(Comment.body, Comment.state, Comment.body_erased_at)
            .join(ScoringJob, ScoringJob.comment_id == Comment.id)
            .where(ScoringJob.id == job_id)
        ).first()
        session.rollback()
    if row is None or row.state not in SCORABLE or row.body_erased_at is not None:
        return None
    return str(row.body)


def _write(session_factory: SessionFactory, work: Callable[[Session], object]) -> None:
    with session_factory() as session:
        begin_write(session)
        work(session)
        session.commit()


def score_one(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    target: ScorerTarget,
    breaker: CircuitBreaker,
    job_id: int,
    now: Callable[[], datetime],
) -> bool:
    """Score one claimed job and record what came of it; False when the service was not
    called (the comment went before its turn)."""
    text = _text_of(session_factory, job_id)
    if text is None:
        _write(session_factory, lambda session: finish_unscorable(session, job_id, now()))
        return False
    try:
        scores = score_text(target, text)
    except ScorerFailure as failure:
        moment, error = now(), str(failure)
        breaker.failed(moment.timestamp())
        log.warning("scoring job %s failed: %s", job_id, error)
        _write(
            session_factory,
            lambda session: record_failure(
                session,
                job_id,
                error,
                moment,
                settings["TRIBUNE_SCORER_BACKOFF_SECONDS"],
                settings["TRIBUNE_SCORER_MAX_BACKOFF_SECONDS"],
            ),
        )
        return True
    breaker.succeeded()
    _write(session_factory, lambda session: apply_scores(session, job_id, scores, now()))
    return True


@worker_step("scoring")
def score_due(
    session_factory: SessionFactory,
    settings: Mapping[str, Any],
    now: Callable[[], datetime],
) -> int:
    """One round: drop what is too old, then score the due jobs the breaker lets through.
    Returns how many jobs were dropped or tried (0: nothing to do, or the breaker is open)."""
    target = ScorerTarget.from_settings(settings)
    if target is None:
        return 0
    dropped = 0

    def drop(session: Session) -> None:
        nonlocal dropped
        dropped = drop_expired(session, settings["TRIBUNE_SCORER_MAX_AGE_SECONDS"], now())

    _write(session_factory, drop)
    breaker = scorer_breaker(settings)
    moment = now()
    half_open = breaker.state(moment.timestamp()) == HALF_OPEN
    if not breaker.allow(moment.timestamp()):
        return dropped
    claimed: list[int] = []

    def claim(session: Session) -> None:
        claimed.extend(
            claim_jobs(
                session, moment, settings["TRIBUNE_OUTBOX_LEASE_SECONDS"], 1 if half_open else BATCH
            )
        )

    _write(session_factory, claim)
    tried = 0
    called = False
    for position, job_id in enumerate(claimed):
        if position and not breaker.allow(now().timestamp()):
            _write(session_factory, partial(release_jobs, job_ids=claimed[position:]))
            break
        called = score_one(session_factory, settings, target, breaker, job_id, now) or called
        tried += 1
    if half_open and not called:
        breaker.store.release_trial()  # no call was the trial: the next round makes one
    return dropped + tried
