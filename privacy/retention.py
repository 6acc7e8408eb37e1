"""The retention purge: what Tribune keeps only for a while.

- `TRIBUNE_RETAIN_IP_DAYS` (90): the keyed IP hashes of ballots (the only IP-derived column;
  comments and reports store none) are emptied once the ballot is older. The per-IP allowance
  looks back one hour, so nothing Tribune decides needs them longer.
- `TRIBUNE_RETAIN_REJECTED_DAYS` (180): the text of rejected and removed comments is replaced by
  "[verwijderd na bewaartermijn]" once the decision (the row's last change) is older; the row,
  its state, reason, flags' reasons and audit trail stay. A comment with a pending appeal waits
  for its decision. An erased comment cannot be appealed or published again.

0 keeps them for good. The worker runs it every hour (the periodic job `retention_purge`);
`flask --app app tribune purge` runs it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, exists, select, update
from sqlalchemy.orm import Session

from models import Appeal, AppealState, Ballot, Comment, CommentState, utcnow
from moderation.audit import record_action
from outbox import periodic_job
from privacy.deletion import erase_body, forget_spans

ERASED_AFTER_RETENTION = "[verwijderd na bewaartermijn]"
BATCH = 500  # comments erased per round (each gets an audit row)
PURGE_EVERY_SECONDS = 3600  # the worker's period: retention is counted in days


@dataclass(frozen=True)
class RetentionPolicy:
    """How many days each kind of data is kept (0: for good)."""

    ip_days: int
    rejected_days: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RetentionPolicy:
        """The policy of an app's settings."""
        return cls(
            ip_days=int(config["TRIBUNE_RETAIN_IP_DAYS"]),
            rejected_days=int(config["TRIBUNE_RETAIN_REJECTED_DAYS"]),
        )


@dataclass(frozen=True)
class PurgeReport:
    """What one purge erased."""

    ip_hashes_erased: int
    bodies_erased: int


def purge_expired(session: Session, now: datetime, policy: RetentionPolicy) -> PurgeReport:
    """Erase what the policy no longer keeps; flushes, the caller commits."""
    return PurgeReport(
        ip_hashes_erased=_erase_ip_hashes(session, now, policy.ip_days),
        bodies_erased=_erase_bodies(session, now, policy.rejected_days),
    )


def _erase_ip_hashes(session: Session, now: datetime, days: int) -> int:
    if days <= 0:
        return 0
    result = cast(
        "CursorResult[Any]",
        session.execute(
            update(Ballot)
            .where(Ballot.ip_hash.is_not(None), Ballot.created_at < now - timedelta(days=days))
            .values(ip_hash=None)
        ),
    )
    return int(result.rowcount or 0)


def _erase_bodies(session: Session, now: datetime, days: int) -> int:
    if days <= 0:
        return 0
    pending_appeal = exists().where(
        Appeal.comment_id == Comment.id, Appeal.state == AppealState.PENDING
    )
    due = (
        select(Comment)
        .where(
            # Said as the Afgewezen tab says it, so both databases use its partial index
            # (state, updated_at) WHERE state <> 'published'.
            Comment.state != CommentState.PUBLISHED,
            Comment.state.in_((CommentState.REJECTED, CommentState.REMOVED)),
            Comment.body_erased_at.is_(None),
            Comment.updated_at < now - timedelta(days=days),
            ~pending_appeal,
        )
        .order_by(Comment.id)
        .limit(BATCH)
    )
    erased = 0
    while True:
        comments = list(session.scalars(due))
        if not comments:
            return erased
        for comment in comments:
            erase_body(comment, ERASED_AFTER_RETENTION, now)
            record_action(
                session,
                None,
                "comment",
                comment.id,
                "erase_body",
                comment.state.value,
                comment.state.value,
            )
        forget_spans(session, [comment.id for comment in comments])
        session.flush()
        erased += len(comments)


@periodic_job("retention_purge", every_seconds=PURGE_EVERY_SECONDS)
def purge_job(session: Session, settings: Mapping[str, Any], now: datetime) -> None:
    """The worker's hourly purge (outbox.periodic_job)."""
    purge_expired(session, now, RetentionPolicy.from_config(settings))


def run_purge(
    session: Session, config: Mapping[str, Any], now: datetime | None = None
) -> PurgeReport:
    """The purge under an app's settings (the worker's periodic job and the CLI)."""
    return purge_expired(session, now or utcnow(), RetentionPolicy.from_config(config))
