"""Poll results: per option counts and percentages, who may see them, and editors' analytics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from brussels import BRUSSELS
from models import Ballot, BallotChoice, Poll, PollOption, ResultsVisibility
from polls.ratings import RatingsPollSnapshot
from polls.services import OptionSnapshot, PollSnapshot, PollState, poll_state

# What the public view of a poll is read from: a Poll row, or the vote path's (or the rating
# set's) snapshot.
PollView = Poll | PollSnapshot | RatingsPollSnapshot


@dataclass(frozen=True)
class OptionResult:
    option_id: int
    label: str
    votes: int
    percent: int


@dataclass(frozen=True)
class PollResults:
    """Counted (not quarantined) ballots; `members_only` counts logged-in fans only."""

    total: int
    options: list[OptionResult]
    members_only: bool = False

    @property
    def leader_ids(self) -> set[int]:
        top = max((o.votes for o in self.options), default=0)
        return {o.option_id for o in self.options if top and o.votes == top}


def percentages(counts: list[int], total: int, single_choice: bool) -> list[int]:
    """Whole percentages; single choice uses largest remainders so they add up to 100."""
    if total <= 0:
        return [0 for _ in counts]
    if not single_choice:
        return [round(100 * c / total) for c in counts]
    exact = [100 * c / total for c in counts]
    floors = [int(x) for x in exact]
    rest = 100 - sum(floors) if sum(counts) == total else 0
    order = sorted(range(len(counts)), key=lambda i: (exact[i] - floors[i], -i), reverse=True)
    for i in order[: max(rest, 0)]:
        floors[i] += 1
    return floors


# The stand of logged-in fans beside the stand of all votes says something only when both groups
# (logged-in fans, anonymous voters) cast enough ballots and differ on some option by enough
# percentage points; otherwise the poll shows one stand (docs/design.md, "The poll block").
SPLIT_MIN_BALLOTS = 20
SPLIT_MIN_GAP = 10


def split_says_something(everyone: PollResults, members: PollResults) -> bool:
    """Whether to show the logged-in fans' stand beside the stand of all votes."""
    anonymous_total = everyone.total - members.total
    if members.total < SPLIT_MIN_BALLOTS or anonymous_total < SPLIT_MIN_BALLOTS:
        return False
    member_votes = {o.option_id: o.votes for o in members.options}
    for option in everyone.options:
        mine = member_votes.get(option.option_id, 0)
        members_share = 100 * mine / members.total
        anonymous_share = 100 * (option.votes - mine) / anonymous_total
        if abs(members_share - anonymous_share) >= SPLIT_MIN_GAP:
            return True
    return False


def results_visible(poll: PollView, now: datetime, has_voted: bool, editor: bool = False) -> bool:
    """Who sees the stand: editors always; the public per the poll's visibility rule."""
    if editor:
        return True
    state = poll_state(poll, now)
    rule = poll.results_visibility
    if state is PollState.SCHEDULED or rule is ResultsVisibility.NEVER:
        return False
    if rule is ResultsVisibility.ALWAYS:
        return True
    if rule is ResultsVisibility.AFTER_VOTE:
        return has_voted or state is PollState.CLOSED
    return state is PollState.CLOSED


def poll_results(session: Session, poll: PollView, members_only: bool = False) -> PollResults:
    """The stand: from the counters, or from the rows for logged-in fans only."""
    options: list[PollOption | OptionSnapshot] = list(poll.options)
    if not members_only:
        counts = [o.vote_count for o in options]
        total = poll.ballot_count
    else:
        counted = (
            Ballot.poll_id == poll.id,
            Ballot.quarantined_at.is_(None),
            Ballot.user_id.is_not(None),
        )
        per_option: dict[int, int] = {
            option_id: count
            for option_id, count in session.execute(
                select(BallotChoice.option_id, func.count())
                .join(Ballot, Ballot.id == BallotChoice.ballot_id)
                .where(*counted)
                .group_by(BallotChoice.option_id)
            )
        }
        counts = [int(per_option.get(o.id, 0)) for o in options]
        total = session.scalar(select(func.count()).select_from(Ballot).where(*counted)) or 0
    shares = percentages(counts, total, poll.max_choices == 1)
    return PollResults(
        total=total,
        options=[
            OptionResult(o.id, o.label, c, p)
            for o, c, p in zip(options, counts, shares, strict=True)
        ],
        members_only=members_only,
    )


def refresh_counters(session: Session, poll: Poll) -> None:
    """Reload the poll's and its options' counters in one query (after a commit)."""
    rows = session.execute(
        select(PollOption.id, PollOption.vote_count, Poll.ballot_count)
        .join(Poll, Poll.id == PollOption.poll_id)
        .where(PollOption.poll_id == poll.id)
    ).all()
    counts = {option_id: votes for option_id, votes, _ in rows}
    # Committed values: the objects do not become dirty.
    for option in poll.options:
        set_committed_value(option, "vote_count", counts.get(option.id, option.vote_count))
    if rows:
        set_committed_value(poll, "ballot_count", rows[0][2])


# ---------------------------------------------------------------- editors' analytics


@dataclass(frozen=True)
class BallotStats:
    total: int  # every ballot, quarantined included
    counted: int
    members: int  # counted ballots of logged-in fans
    anonymous: int
    suspicious: int  # suspicious, not in quarantine
    quarantined: int
    by_reason: dict[str, int]


def ballot_stats(session: Session, poll: PollView) -> BallotStats:
    """Counts for the editors' results page."""
    rows = session.execute(
        select(
            Ballot.user_id.is_not(None),
            Ballot.is_suspicious,
            Ballot.suspicion,
            Ballot.quarantined_at.is_not(None),
            func.count(),
        )
        .where(Ballot.poll_id == poll.id)
        .group_by(
            Ballot.user_id.is_not(None),
            Ballot.is_suspicious,
            Ballot.suspicion,
            Ballot.quarantined_at.is_not(None),
        )
    ).all()
    total = counted = members = suspicious = quarantined = 0
    by_reason: dict[str, int] = {}
    for member, is_suspicious, reason, in_quarantine, count in rows:
        total += count
        if in_quarantine:
            quarantined += count
        else:
            counted += count
            members += count if member else 0
            if is_suspicious:
                suspicious += count
        if is_suspicious:
            by_reason[reason or "?"] = by_reason.get(reason or "?", 0) + count
    return BallotStats(
        total, counted, members, counted - members, suspicious, quarantined, by_reason
    )


@dataclass(frozen=True)
class TimeBucket:
    start: datetime  # Brussels local time
    members: int
    anonymous: int

    @property
    def total(self) -> int:
        return self.members + self.anonymous


def votes_over_time(
    session: Session, poll: Poll, now: datetime, max_hours: int = 72
) -> tuple[str, list[TimeBucket]]:
    """Counted ballots per hour (polls up to three days) or per day, in Brussels time."""
    stamps = session.execute(
        select(Ballot.created_at, Ballot.user_id.is_not(None))
        .where(Ballot.poll_id == poll.id, Ballot.quarantined_at.is_(None))
        .order_by(Ballot.created_at)
    ).all()
    if not stamps:
        return "hour", []
    first = stamps[0][0].astimezone(BRUSSELS)
    last = max(stamps[-1][0], min(now, poll.closes_at or now)).astimezone(BRUSSELS)
    hourly = last - first <= timedelta(hours=max_hours)

    def bucket(moment: datetime) -> datetime:
        local = moment.astimezone(BRUSSELS)
        if hourly:
            # Bucket on UTC hours so the DST fall-back hour does not merge two hours.
            utc = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            return utc.astimezone(BRUSSELS)
        return local.replace(hour=0, minute=0, second=0, microsecond=0)

    counts: dict[datetime, list[int]] = {}
    for created_at, member in stamps:
        slot = counts.setdefault(bucket(created_at), [0, 0])
        slot[0 if member else 1] += 1
    # Fill the gaps so the chart's time axis is honest.
    buckets: list[TimeBucket] = []
    cursor = bucket(stamps[0][0])
    end = bucket(last)
    while cursor <= end and len(buckets) < 2000:
        members, anonymous = counts.get(cursor, [0, 0])
        buckets.append(TimeBucket(cursor, members, anonymous))
        if hourly:
            cursor = (cursor.astimezone(UTC) + timedelta(hours=1)).astimezone(BRUSSELS)
        else:
            nxt = (cursor + timedelta(days=1, hours=3)).replace(hour=0)
            cursor = nxt.replace(tzinfo=BRUSSELS)
    return ("hour" if hourly else "day"), buckets
