"""Quarantine: ballots out of the results and tallies (or back in), audited, counters moved.

Counters (options by ascending id, a ratings poll's players in one UPDATE, then the poll, then
the article) change with SQL
increments, last in the transaction and always in that order, so concurrent ballots and
quarantines cannot deadlock.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from caching import touch_article
from lookups import get_or_404
from models import Article, Ballot, BallotChoice, Poll, PollOption, User
from moderation.audit import record_action
from polls.ratings import rating_deltas, shift_player_counters


class QuarantineScope(enum.Enum):
    SELECTED = "selected"
    SUSPICIOUS = "suspicious"  # every suspicious ballot not yet in quarantine
    IP_ALLOWANCE = "ip_allowance"
    BURST = "burst"


def _ballot_filter(poll_id: int, scope: QuarantineScope, ids: Sequence[int]) -> list:
    conditions = [Ballot.poll_id == poll_id]
    if scope is QuarantineScope.SELECTED:
        conditions.append(Ballot.id.in_(list(ids) or [-1]))
    else:
        conditions.append(Ballot.is_suspicious.is_(True))
        if scope is not QuarantineScope.SUSPICIOUS:
            conditions.append(Ballot.suspicion == scope.value)
    return conditions


def _per_option(session: Session, ballot_ids: Iterable[int]) -> dict[int, int]:
    ids = list(ballot_ids)
    counts: Counter[int] = Counter()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        counts.update(
            session.scalars(select(BallotChoice.option_id).where(BallotChoice.ballot_id.in_(chunk)))
        )
    return dict(counts)


def set_quarantine(
    session: Session,
    poll_id: int,
    quarantine: bool,
    scope: QuarantineScope,
    ids: Sequence[int],
    actor: User | None,
    now: datetime,
) -> list[int]:
    """Put ballots in quarantine (out of results and tallies) or release them; audited."""
    poll = get_or_404(session, Poll, poll_id, "poll_not_found", "Deze peiling bestaat niet.")
    conditions = _ballot_filter(poll.id, scope, ids)
    if quarantine:
        conditions.append(Ballot.quarantined_at.is_(None))
        values: dict[str, datetime | None] = {"quarantined_at": now}
    else:
        conditions.append(Ballot.quarantined_at.is_not(None))
        values = {"quarantined_at": None}
    # UPDATE … RETURNING: only rows this transaction actually moved change the counters.
    moved = sorted(
        session.scalars(
            update(Ballot)
            .where(*conditions)
            .values(**values)
            .returning(Ballot.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not moved:
        return []
    # Vote badges are read from the ballots: the article's cached thread pages must go.
    touch_article(session, poll.article_id)
    sign = -1 if quarantine else 1
    per_option = {k: sign * v for k, v in _per_option(session, moved).items()}
    per_player = rating_deltas(session, moved, sign) if poll.is_ratings else {}
    action = "quarantine_ballot" if quarantine else "release_ballot"
    for ballot_id in moved:
        record_action(
            session,
            actor,
            "ballot",
            ballot_id,
            action,
            from_state="counted" if quarantine else "quarantined",
            to_state="quarantined" if quarantine else "counted",
            note=f"poll {poll.id}",
        )
    record_action(
        session,
        actor,
        "poll",
        poll.id,
        "quarantine" if quarantine else "release",
        note=f"{len(moved)} stemmen ({scope.value})",
    )
    _shift_counters(session, poll, per_option, sign * len(moved), per_player)
    session.flush()
    session.expire_all()
    return moved


def _shift_counters(
    session: Session,
    poll: Poll,
    per_option: dict[int, int],
    ballots: int,
    per_player: dict[int, dict[int, int]] | None = None,
) -> None:
    """Add to the counters in the one fixed order: options by id, players, the poll, the
    article."""
    for option_id in sorted(per_option):
        if per_option[option_id]:
            session.execute(
                update(PollOption)
                .where(PollOption.id == option_id)
                .values(vote_count=PollOption.vote_count + per_option[option_id])
                .execution_options(synchronize_session=False)
            )
    shift_player_counters(session, per_player or {})
    if ballots:
        session.execute(
            update(Poll)
            .where(Poll.id == poll.id)
            .values(ballot_count=Poll.ballot_count + ballots)
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(Article)
            .where(Article.id == poll.article_id)
            .values(vote_count=Article.vote_count + ballots)
            .execution_options(synchronize_session=False)
        )
