"""Moderation statistics from the audit log: decisions per hour, moderator, reason; waits."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ModerationAction, User, utcnow

DECISIONS = ("approve", "reject", "remove", "restore", "appeal_upheld", "dismiss_reports")


@dataclass
class HourBucket:
    start: datetime
    decisions: int = 0
    waits: list[float] = field(default_factory=list)

    @property
    def median_wait_minutes(self) -> float | None:
        return round(statistics.median(self.waits) / 60, 1) if self.waits else None

    @property
    def max_wait_minutes(self) -> float | None:
        return round(max(self.waits) / 60, 1) if self.waits else None


@dataclass
class StatsReport:
    hours: int
    buckets: list[HourBucket]
    per_moderator: list[tuple[str, int]]
    per_reason: list[tuple[str, int]]
    per_action: list[tuple[str, int]]
    total: int

    @property
    def max_decisions(self) -> int:
        return max((b.decisions for b in self.buckets), default=0) or 1

    @property
    def max_wait(self) -> float:
        return max((b.max_wait_minutes or 0 for b in self.buckets), default=0) or 1


def actor_names(session: Session) -> dict[int, str]:
    """Names of staff who act in the audit log (for history pages)."""
    return {
        uid: name
        for uid, name in session.execute(
            select(User.id, User.username).where(User.role.in_(("moderator", "admin", "editor")))
        )
    }


def build(session: Session, hours: int = 48, now: datetime | None = None) -> StatsReport:
    """Aggregate the decisions of the last `hours` hours (bounded by activity, not by size)."""
    now = now or utcnow()
    since = (now - timedelta(hours=hours)).replace(minute=0, second=0, microsecond=0)
    rows = list(
        session.scalars(
            select(ModerationAction)
            .where(
                ModerationAction.created_at >= since,
                ModerationAction.target_type == "comment",
                ModerationAction.action.in_(DECISIONS),
            )
            .order_by(ModerationAction.created_at)
        )
    )
    # When did each decided comment enter the queue? Its latest move to "held" before the decision.
    comment_ids = {row.target_id for row in rows}
    entered: dict[str, list[datetime]] = defaultdict(list)
    if comment_ids:
        for target_id, at in session.execute(
            select(ModerationAction.target_id, ModerationAction.created_at)
            .where(
                ModerationAction.target_type == "comment",
                ModerationAction.target_id.in_(comment_ids),
                ModerationAction.to_state == "held",
            )
            .order_by(ModerationAction.created_at)
        ):
            entered[target_id].append(at)
    buckets = [HourBucket(since + timedelta(hours=i)) for i in range(hours + 1)]
    moderators: Counter[int | None] = Counter()
    reasons: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for row in rows:
        index = int((row.created_at - since).total_seconds() // 3600)
        bucket = buckets[min(max(index, 0), len(buckets) - 1)]
        bucket.decisions += 1
        before = [at for at in entered.get(row.target_id, []) if at <= row.created_at]
        if before and row.action in ("approve", "reject"):
            bucket.waits.append((row.created_at - before[-1]).total_seconds())
        moderators[row.actor_id] += 1
        kinds[row.action] += 1
        if row.reason_code:
            reasons[row.reason_code] += 1
    names = actor_names(session)
    return StatsReport(
        hours=hours,
        buckets=buckets,
        per_moderator=[
            (names.get(uid, "systeem") if uid else "systeem", n)
            for uid, n in moderators.most_common()
        ],
        per_reason=reasons.most_common(),
        per_action=kinds.most_common(),
        total=len(rows),
    )
