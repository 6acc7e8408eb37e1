"""Casting a vote: the rules around the vote write (which error, in which order; the existing
ballot back; why a ballot is suspicious; the per-IP allowance in Redis).

The write itself (the guarded ballot insert, its choices, the counters) is the dialect's vote
writer's (writes.votes, chosen by writes.registry.vote_writer).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from db import start_write
from errors import Conflict, DomainError, Invalid, NotFound
from models import Ballot, BallotChoice, Poll, PollOption, VoterScope
from models.base import UTCDateTime
from ops.metrics import record_on_commit
from parsing import is_id
from polls.allowance import Mark
from polls.states import PollState, poll_state
from writes.registry import vote_writer
from writes.votes import (
    POLL_COLUMNS,
    OptionSnapshot,
    PollSnapshot,
    VoteContext,
    VoteOutcome,
    Voter,
    VoteWriter,
    written_poll,
)

__all__ = [  # the vote's values live with its writers (writes.votes); callers take them here
    "SUSPICION_BURST",
    "SUSPICION_IP",
    "OptionSnapshot",
    "PollSnapshot",
    "VoteContext",
    "VoteOutcome",
    "Voter",
    "cast_vote",
    "parse_option_ids",
    "vote_statements",
    "write_vote",
]

SUSPICION_IP = "ip_allowance"
SUSPICION_BURST = "burst"


def parse_option_ids(raw: object) -> list[int]:
    """A non-empty list of distinct integer ids, or 422 invalid_options."""
    if (
        not isinstance(raw, list)
        or not raw
        or not all(is_id(i) for i in raw)
        or len(set(raw)) != len(raw)
    ):
        raise Invalid("invalid_options", "Kies minstens één antwoord (elk antwoord één keer).")
    return list(raw)


# The vote's reads run prebuilt Core statements (built once per dialect, bound by parameters);
# its writes are the dialect's vote writer's (writes.registry.vote_writer).
_VOTE_STATEMENTS: dict[str, dict[str, Any]] = {}


def vote_statements(dialect: str) -> dict[str, Any]:
    """The vote's prebuilt reads for this dialect: load, allowance, born, existing."""
    built = _VOTE_STATEMENTS.get(dialect)
    if built is not None:
        return built
    polls_t, options_t = Poll.__table__, PollOption.__table__
    ballots_t, choices_t = Ballot.__table__, BallotChoice.__table__
    # The poll and its options in one statement; FOR KEY SHARE OF polls on PostgreSQL: votes run
    # side by side but wait for an editor's pending option change (SQLite: the write lock).
    # What a vote's answer needs of the poll: read by `load`; the writes return the same.
    poll_columns = [polls_t.c[name] for name in POLL_COLUMNS]
    load = (
        select(
            *poll_columns,
            options_t.c.id,
            options_t.c.label,
            options_t.c.vote_count,
        )
        .select_from(polls_t.outerjoin(options_t, options_t.c.poll_id == polls_t.c.id))
        .where(polls_t.c.id == bindparam("poll_id"))
        .order_by(options_t.c.position)
        .with_for_update(read=True, key_share=True, of=polls_t)
    )
    allowance = (
        select(func.count())
        .select_from(ballots_t)
        .where(
            ballots_t.c.poll_id == bindparam("poll_id"),
            ballots_t.c.ip_hash == bindparam("ip_hash"),
            ballots_t.c.created_at >= bindparam("since", type_=UTCDateTime()),
        )
    )
    born = select(polls_t.c.created_at).where(polls_t.c.id == bindparam("poll_id"))
    existing = (
        select(ballots_t.c.id, ballots_t.c.created_at, choices_t.c.option_id)
        .select_from(ballots_t.outerjoin(choices_t, choices_t.c.ballot_id == ballots_t.c.id))
        .where(
            ballots_t.c.poll_id == bindparam("poll_id"),
            ballots_t.c.voter_key == bindparam("voter_key"),
        )
        .order_by(choices_t.c.option_id)
    )
    built = {
        "load": load,
        "allowance": allowance,
        "born": born,
        "existing": existing,
    }
    _VOTE_STATEMENTS[dialect] = built
    return built


def _check_vote(
    snapshot: PollSnapshot, option_ids: object, voter: Voter, context: VoteContext, now: datetime
) -> list[int]:
    """Schedule, scope, state and options, in docs/design.md's order; the parsed option ids."""
    state = poll_state(snapshot, now)
    if state is PollState.SCHEDULED:
        if not context.editor:
            raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
        raise Conflict("poll_not_open", "Deze peiling is nog niet geopend.")
    if snapshot.voter_scope is VoterScope.LOGGED_IN and not voter.is_member:
        raise DomainError("login_required", "Meld je aan om te stemmen in deze peiling.", 401)
    if state is PollState.CLOSED:
        raise Conflict("poll_closed", "Deze peiling is gesloten.")
    ids = parse_option_ids(option_ids)
    valid = {option.id for option in snapshot.options}
    if not set(ids) <= valid:
        raise Invalid(
            "invalid_options",
            "Eén of meer antwoorden horen niet bij deze peiling.",
            details={"unknown": sorted(set(ids) - valid)},
        )
    if len(ids) > snapshot.max_choices:
        raise Invalid(
            "too_many_choices",
            f"Je mag hoogstens {snapshot.max_choices} "
            f"{'antwoord' if snapshot.max_choices == 1 else 'antwoorden'} kiezen.",
            details={"max_choices": snapshot.max_choices},
        )
    return ids


def _load_snapshot(conn: Any, stmts: dict[str, Any], poll_id: int) -> PollSnapshot:
    """The poll with its options, as `load` reads them (poll columns first)."""
    rows = conn.execute(stmts["load"], {"poll_id": poll_id}).all()
    if not rows:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    options = tuple(OptionSnapshot(r.id, r.label, r.vote_count) for r in rows if r.id is not None)
    return written_poll(poll_id, rows[0][: len(POLL_COLUMNS)], options, None)


def cast_vote(
    session: Session,
    poll_id: int,
    raw_option_ids: object,
    voter: Voter,
    context: VoteContext,
    now: datetime,
) -> VoteOutcome:
    """One ballot per voter per poll: 201-style created, or the existing ballot back.

    Write first: a well-formed vote goes straight to the write transaction (BEGIN IMMEDIATE on
    SQLite), without reading the poll before. The ballot INSERT … SELECT … FROM polls inserts
    only while the poll takes this vote (open at the vote's time, the voter's scope, at most
    max_choices, every chosen option on this poll), ON CONFLICT DO NOTHING; then the choices
    and the counters, whose RETURNING gives the poll and its options for the answer (nothing
    is read back after the write). The dialect's vote writer (writes.registry) writes it: on
    PostgreSQL one statement, its own transaction when none has begun; on SQLite five, all
    under the write lock; both on the driver directly.

    When nothing is inserted (a repeat voter, a poll that is closed, scheduled, for members, an
    unknown option, too many choices …) the checked path runs in a write transaction (on
    SQLite the same one; on PostgreSQL its first read begins one and takes FOR KEY SHARE OF
    polls): the poll with its options is read, the rules give the exact error in the order of
    docs/design.md, or the existing ballot comes back. Malformed option ids go to the checked
    path directly, so a scheduled poll stays 404 whatever the body says.

    The per-IP allowance (when on): on SQLite a count of the rows inside the ballot insert,
    exact under the write lock. On PostgreSQL, where votes run side by side, a mark in Redis
    (polls.allowance) when the context has it, one round trip before the write, taken back when
    no ballot is inserted; else (no Redis, or Redis fails) a count of the rows.
    """
    dialect = session.get_bind().dialect
    writer = vote_writer(dialect)
    stmts = vote_statements(dialect.name)
    option_ids = _well_formed(raw_option_ids)
    # A writer that counts the allowance inside its insert (SQLite: exact under its write lock)
    # needs no Redis round trip.
    counted_in_redis = not writer.counts_allowance and context.ip_hash and context.ip_allowance > 0
    allowance = context.allowance if counted_in_redis else None
    mark = None
    try:
        if allowance is not None:
            born = allowance.born(poll_id)
            if born is None:  # once per poll per process: its creation time names its keys
                born = session.execute(stmts["born"], {"poll_id": poll_id}).scalar()
                if born is not None:
                    allowance.remember_born(poll_id, born)
            if born is not None and option_ids is not None:
                mark = allowance.mark(poll_id, born, context.ip_hash or "", voter.key, now)
        start_write(session)  # SQLite: BEGIN IMMEDIATE on the connection that read
        outcome = None
        if option_ids is not None:
            outcome = write_vote(
                writer, session, stmts, poll_id, option_ids, voter, context, now, mark
            )
        if outcome is None:
            outcome = _checked_vote(
                writer, session, stmts, poll_id, raw_option_ids, voter, context, now, mark
            )
    except BaseException:
        if mark is not None and allowance is not None:
            allowance.unmark(mark)
        raise
    if mark is not None and allowance is not None and not outcome.created:
        allowance.unmark(mark)  # the voter's ballot already existed
    if outcome.created:
        record_on_commit(session, "votes")
    return outcome


def _well_formed(raw: object) -> list[int] | None:
    """The option ids sorted, or None when parse_option_ids would refuse them."""
    try:
        return sorted(parse_option_ids(raw))
    except Invalid:
        return None


def _suspicion(
    conn: Any,
    stmts: dict[str, Any],
    poll_id: int,
    voter: Voter,
    context: VoteContext,
    now: datetime,
    mark: Mark | None,
) -> str | None:
    """Why the new ballot is marked suspicious (None: it is not)."""
    if mark is not None:
        if mark.before >= context.ip_allowance:
            return SUSPICION_IP
    elif context.ip_hash and context.ip_allowance > 0:
        recent = conn.execute(
            stmts["allowance"],
            {"poll_id": poll_id, "ip_hash": context.ip_hash, "since": now - timedelta(hours=1)},
        ).scalar()
        if (recent or 0) >= context.ip_allowance:
            return SUSPICION_IP
    if context.burst and not voter.is_member:
        return SUSPICION_BURST
    return None


def write_vote(
    writer: VoteWriter,
    session: Session,
    stmts: dict[str, Any],
    poll_id: int,
    ordered: list[int],
    voter: Voter,
    context: VoteContext,
    now: datetime,
    mark: Mark | None,
) -> VoteOutcome | None:
    """The writer's guarded insert, with the suspicion the rules give it (unless it counts the
    allowance itself); None when nothing was inserted."""
    suspicion = None
    if not writer.counts_allowance:
        suspicion = _suspicion(session.connection(), stmts, poll_id, voter, context, now, mark)
    return writer.cast(session, poll_id, ordered, voter, context, now, suspicion)


def _checked_vote(
    writer: VoteWriter,
    session: Session,
    stmts: dict[str, Any],
    poll_id: int,
    raw_option_ids: object,
    voter: Voter,
    context: VoteContext,
    now: datetime,
    mark: Mark | None,
) -> VoteOutcome:
    """In the write transaction: read the poll, apply the rules (their errors), return the
    existing ballot, or insert when the poll took the vote after all (it changed meanwhile)."""
    conn = session.connection()
    snapshot = _load_snapshot(conn, stmts, poll_id)
    ordered = sorted(_check_vote(snapshot, raw_option_ids, voter, context, now))
    found = conn.execute(stmts["existing"], {"poll_id": poll_id, "voter_key": voter.key}).all()
    if found:
        chosen = [r.option_id for r in found if r.option_id is not None]
        return VoteOutcome(found[0].id, found[0].created_at, False, chosen, snapshot)
    outcome = write_vote(writer, session, stmts, poll_id, ordered, voter, context, now, mark)
    if outcome is None:  # cannot happen: the rules passed under the lock and no ballot exists
        raise Conflict("vote_conflict", "Je stem kon niet verwerkt worden. Probeer opnieuw.")
    return outcome
