"""Context rules around screening: who posts, where, how often, and what they posted before."""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from config import DEFAULTS
from models import Comment, CommentState, User
from moderation.flags import Severity


class ContextFlag(enum.Enum):
    """Hold reasons that come from context, not from the text (stored like screening flags)."""

    PREMODERATED = ("premoderated", "andere", "Artikel wordt voorafgaand gemodereerd")
    NEW_ACCOUNT = ("new_account", "andere", "Nieuw account met een signaal")
    RECENT_HISTORY = ("recent_history", "andere", "Veel afgewezen reacties de laatste tijd")
    DUPLICATE = ("duplicate", "spam", "Dezelfde reactie opnieuw geplaatst")
    NEAR_DUPLICATE = ("near_duplicate", "spam", "Bijna dezelfde reactie opnieuw geplaatst")
    REPORTED = ("reported", "andere", "Door lezers gemeld")

    def __init__(self, code: str, reason: str, label_nl: str) -> None:
        self.code = code
        self.reason = reason
        self.label_nl = label_nl
        self.severity = Severity.HOLD


def _default(field: str) -> Any:
    return DEFAULTS[f"TRIBUNE_{field.upper()}"]


@dataclass(frozen=True)
class PostingPolicy:
    """The thresholds of the context rules: each field is the setting TRIBUNE_<FIELD>."""

    new_account_comments: int = _default("new_account_comments")
    rejection_rate: float = _default("rejection_rate")
    rejection_min_decided: int = _default("rejection_min_decided")
    rejection_window_days: int = _default("rejection_window_days")
    flood_limit: int = _default("flood_limit")
    flood_window_seconds: float = _default("flood_window_seconds")
    duplicate_window_seconds: float = _default("duplicate_window_seconds")
    near_duplicate_similarity: float = _default("near_duplicate_similarity")
    report_threshold: float = _default("report_threshold")
    edit_window_seconds: int = _default("edit_window_seconds")
    undo_delete_seconds: int = _default("undo_delete_seconds")
    new_reporter_days: int = _default("new_reporter_days")
    auto_close_days: int = _default("auto_close_days")  # 0 = articles never close by themselves
    # Posting, replying and reporting need a confirmed address (accounts.care).
    require_verified_email: bool = _default("require_verified_email")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PostingPolicy:
        """The policy of the app's (typed) TRIBUNE_* settings."""
        return cls(**{name: config[f"TRIBUNE_{name.upper()}"] for name in cls.__dataclass_fields__})


def is_new_account(session: Session, author: User, policy: PostingPolicy) -> bool:
    """The author's first N comments count as a new account's."""
    written = author.published_count + author.held_count + author.rejected_count
    return written < policy.new_account_comments


def may_have_recent_rejections(author: User, policy: PostingPolicy, now: datetime) -> bool:
    """False when no comment of the author created in the window can be rejected or removed.

    `last_rejected_at` is never earlier than the creation of any rejected or removed comment,
    so a value before the window (or none) settles it without a query.
    """
    since = now - timedelta(days=policy.rejection_window_days)
    return author.last_rejected_at is not None and author.last_rejected_at >= since


def recent_rejection_rate(
    session: Session, author: User, policy: PostingPolicy, now: datetime
) -> float | None:
    """Share of the author's decided comments in the window that were rejected or removed."""
    if not may_have_recent_rejections(author, policy, now):
        return None
    since = now - timedelta(days=policy.rejection_window_days)
    rows = session.execute(
        select(Comment.state, func.count())
        .where(
            Comment.author_id == author.id,
            Comment.created_at >= since,
            Comment.state.in_(
                (CommentState.PUBLISHED, CommentState.REJECTED, CommentState.REMOVED)
            ),
        )
        .group_by(Comment.state)
    )
    counts: dict[CommentState, int] = {state: count for state, count in rows}
    decided = sum(counts.values())
    if decided < policy.rejection_min_decided:
        return None
    bad = counts.get(CommentState.REJECTED, 0) + counts.get(CommentState.REMOVED, 0)
    return bad / decided


_FINGERPRINT_DROP = re.compile(r"[^\w]+", re.UNICODE)


def fingerprint(text: str) -> str:
    """Text reduced for duplicate checks: case-folded, accents and punctuation dropped."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(_FINGERPRINT_DROP.sub(" ", folded).split())[:500]


def _shingles(text: str) -> set[str]:
    return {text[i : i + 4] for i in range(max(1, len(text) - 3))}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of character 4-grams (cheap, order-tolerant)."""
    left, right = _shingles(a), _shingles(b)
    return len(left & right) / len(left | right) if left or right else 1.0


# Only the author's latest comments are compared: enough to catch copy-paste floods.
DUPLICATE_LOOKBACK = 10


def duplicate_flag(current: str, previous: list[str], policy: PostingPolicy) -> ContextFlag | None:
    """DUPLICATE for the same text, NEAR_DUPLICATE for nearly the same, else None."""
    if len(current) < 8:  # "Goal!", "Haha" are allowed twice
        return None
    recent = previous[-DUPLICATE_LOOKBACK:]
    if current in recent:
        return ContextFlag.DUPLICATE
    mine = _shingles(current)
    for earlier in recent:
        # Lengths far apart cannot reach the similarity threshold: skip the set work.
        if (
            min(len(earlier), len(current))
            < policy.near_duplicate_similarity * max(len(earlier), len(current)) - 3
        ):
            continue
        theirs = _shingles(earlier)
        if len(mine & theirs) / len(mine | theirs) >= policy.near_duplicate_similarity:
            return ContextFlag.NEAR_DUPLICATE
    return None
