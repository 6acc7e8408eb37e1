"""The daily digest: the worker gathers each fan's collected notifications into one mail, once a
day at TRIBUNE_DIGEST_HOUR Brussels time (or at its first run after that hour when it was down).

An item collected before today's digest hour goes in today's digest; one collected after it
waits for tomorrow's, so a fan gets at most one digest a day. Items are claimed by deleting them
(DELETE … RETURNING): two workers never put one item in two mails.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from brussels import BRUSSELS, to_local
from models import Delivery, DigestItem, NotificationKind, User
from notifications.preferences import (
    DIGEST,
    FAN_KINDS,
    delivery_for,
    notification_address,
    reachable,
    unsubscribe_path,
)
from outbox import enqueue_mail, periodic_job

# Digests enqueued per run at most (the next run, a minute later, goes on).
BATCH = 200
KIND_HEADINGS_NL = {
    NotificationKind.REPLY: "Antwoorden op je reacties",
    NotificationKind.DECISION: "Beslissingen over je reacties",
    NotificationKind.REPORT: "Wat je meldde",
    NotificationKind.APPEAL: "Je bezwaren",
    NotificationKind.SUSPENSION: "Je account",
}
NO_ARTICLE_NL = "Je account"


def digest_moment(day: date, hour: int) -> datetime:
    """`hour` o'clock Brussels time on `day`, in UTC (an hour skipped by summer time moves on)."""
    local = datetime.combine(day, time(hour), tzinfo=BRUSSELS)
    return local.astimezone(UTC)


def latest_digest_moment(now: datetime, hour: int) -> datetime:
    """The most recent digest hour at or before `now`: today's, or yesterday's before it."""
    today = to_local(now).date()
    moment = digest_moment(today, hour)
    return moment if moment <= now else digest_moment(today - timedelta(days=1), hour)


def due_recipients(session: Session, cutoff: datetime, limit: int = BATCH) -> list[int]:
    """Accounts with items collected before `cutoff`."""
    return list(
        session.scalars(
            select(DigestItem.user_id)
            .where(DigestItem.created_at < cutoff)
            .group_by(DigestItem.user_id)
            .order_by(DigestItem.user_id)
            .limit(limit)
        )
    )


def group_items(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Items by kind (in the settings page's order), then by article (first collected first)."""
    groups: list[dict[str, Any]] = []
    for kind in FAN_KINDS:
        articles: dict[str, list[dict[str, str]]] = {}
        for row in sorted(rows, key=lambda r: (r["created_at"], r["id"])):
            if row["kind"] is kind:
                title = row["article_title"] or NO_ARTICLE_NL
                articles.setdefault(title, []).append(
                    {"summary": row["data"]["summary"], "path": row["data"]["path"]}
                )
        if articles:
            groups.append(
                {
                    "heading": KIND_HEADINGS_NL[kind],
                    "articles": [
                        {"title": title, "entries": entries} for title, entries in articles.items()
                    ],
                }
            )
    return groups


def send_digest(session: Session, user_id: int, cutoff: datetime, now: datetime) -> bool:
    """Claim the account's due items and enqueue their digest; False when none was sent (no
    item left, no address, every kind turned off since)."""
    claimed = session.execute(
        delete(DigestItem)
        .where(DigestItem.user_id == user_id, DigestItem.created_at < cutoff)
        .returning(
            DigestItem.id,
            DigestItem.kind,
            DigestItem.article_title,
            DigestItem.data,
            DigestItem.created_at,
        )
    ).mappings()
    rows = [dict(row) for row in claimed]
    user = session.get(User, user_id)
    if not rows or user is None:
        return False
    # A kind turned off since its items were collected drops them.
    kept = [
        row
        for row in rows
        if reachable(user, row["kind"], now)
        and delivery_for(session, user, row["kind"]) is not Delivery.NEVER
    ]
    address = notification_address(session, user)
    if not kept or address is None:
        return False
    enqueue_mail(
        session,
        to=address,
        template="notify_digest",
        context={"count": len(kept), "groups": group_items(kept)},
        kind="digest",
        user_id=user.id,
        unsubscribe_path=unsubscribe_path(session, user.id, DIGEST),
    )
    return True


def send_due_digests(session: Session, hour: int, now: datetime) -> int:
    """Enqueue the digest of every account with due items (a batch per run); how many."""
    cutoff = latest_digest_moment(now, hour)
    return sum(
        send_digest(session, user_id, cutoff, now) for user_id in due_recipients(session, cutoff)
    )


@periodic_job("digest", every_seconds=60)
def send_digests(session: Session, settings: Mapping[str, Any], now: datetime) -> None:
    """The worker's digest job (TRIBUNE_DIGEST_HOUR)."""
    send_due_digests(session, settings["TRIBUNE_DIGEST_HOUR"], now)
