"""Poll rules: create, edit, schedule, close/reopen, delete, cast a vote, quarantine ballots.

Services take a Session, flush, never commit. Counters (options by ascending id, then the poll,
then the article) are changed with SQL increments, last in each transaction and always in that
order, so concurrent ballots and quarantines cannot deadlock.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from psycopg.rows import namedtuple_row
from sqlalchemy import Boolean, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session, selectinload

from db import start_write
from errors import Conflict, DomainError, Invalid, NotFound
from models import (
    Article,
    Ballot,
    BallotChoice,
    Poll,
    PollOption,
    ResultsVisibility,
    User,
    VoterScope,
    utcnow,
)
from models.base import UTCDateTime
from moderation.audit import record_action
from parsing import is_id
from polls.allowance import Mark, RedisIpAllowance
from writes.driver import type_processors

MIN_OPTIONS = 2
MAX_OPTIONS = 10
QUESTION_MAX = 300
LABEL_MAX = 200
SUSPICION_IP = "ip_allowance"
SUSPICION_BURST = "burst"


class PollState(enum.Enum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


def poll_state(poll: Poll, now: datetime) -> PollState:
    """Scheduled before opens_at, closed from closes_at on, open in between."""
    if poll.opens_at is not None and now < poll.opens_at:
        return PollState.SCHEDULED
    if poll.closes_at is not None and now >= poll.closes_at:
        return PollState.CLOSED
    return PollState.OPEN


# ---------------------------------------------------------------- reading


def get_poll(session: Session, poll_id: int, now: datetime, *, editor: bool = False) -> Poll:
    """The poll with its options; a scheduled poll is 404 to everyone but editors."""
    poll = session.scalar(
        select(Poll).where(Poll.id == poll_id).options(selectinload(Poll.options))
    )
    if poll is None or (not editor and poll_state(poll, now) is PollState.SCHEDULED):
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    return poll


def has_ballots(session: Session, poll_id: int) -> bool:
    """Whether any ballot (quarantined ones too) exists: the poll's question is then frozen."""
    return session.scalar(select(Ballot.id).where(Ballot.poll_id == poll_id).limit(1)) is not None


def find_ballot(session: Session, poll_id: int, voter_key: str) -> Ballot | None:
    """The voter's ballot on this poll, with its choices."""
    return session.scalar(
        select(Ballot)
        .where(Ballot.poll_id == poll_id, Ballot.voter_key == voter_key)
        .options(selectinload(Ballot.choices))
    )


# ---------------------------------------------------------------- editing


@dataclass
class PollDraft:
    """What an editor may set on a poll (already parsed; times are aware UTC datetimes)."""

    question: str
    options: list[str]
    max_choices: int = 1
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    results_visibility: ResultsVisibility = ResultsVisibility.ALWAYS
    voter_scope: VoterScope = VoterScope.EVERYONE


def _invalid(fields: dict[str, str]) -> Invalid:
    return Invalid("validation_failed", "Niet alle velden zijn geldig.", details={"fields": fields})


def validate_draft(draft: PollDraft, now: datetime, *, new: bool) -> PollDraft:
    """Normalise and check a draft; 422 with a Dutch message per field."""
    fields: dict[str, str] = {}
    question = " ".join((draft.question or "").split())
    if not question:
        fields["question"] = "Vul een vraag in."
    elif len(question) > QUESTION_MAX:
        fields["question"] = f"Een vraag heeft hoogstens {QUESTION_MAX} tekens."
    labels = [" ".join(str(label).split()) for label in draft.options]
    labels = [label for label in labels if label]
    if not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        fields["options"] = f"Geef {MIN_OPTIONS} tot {MAX_OPTIONS} antwoorden."
    elif any(len(label) > LABEL_MAX for label in labels):
        fields["options"] = f"Een antwoord heeft hoogstens {LABEL_MAX} tekens."
    elif len({label.casefold() for label in labels}) != len(labels):
        fields["options"] = "Elk antwoord mag maar één keer voorkomen."
    if not isinstance(draft.max_choices, int) or isinstance(draft.max_choices, bool):
        fields["max_choices"] = "Geef een aantal."
    elif not 1 <= draft.max_choices <= max(len(labels), 1):
        fields["max_choices"] = "Het maximum aantal keuzes ligt tussen 1 en het aantal antwoorden."
    for name in ("opens_at", "closes_at"):
        value = getattr(draft, name)
        if value is not None and value.tzinfo is None:
            fields[name] = "Een tijdstip heeft een tijdzone nodig."
    if "opens_at" not in fields and "closes_at" not in fields and draft.closes_at is not None:
        if draft.opens_at is not None and draft.closes_at <= draft.opens_at:
            fields["closes_at"] = "De peiling moet sluiten na het openen."
        elif new and draft.closes_at <= now:
            fields["closes_at"] = "Het sluitingstijdstip ligt in het verleden."
    if fields:
        raise _invalid(fields)
    draft.question = question
    draft.options = labels
    return draft


def _audit(session: Session, actor: User | None, poll: Poll, action: str, **kw: str | None) -> None:
    record_action(session, actor, "poll", poll.id, action, **kw)


def create_poll(
    session: Session, article: Article, draft: PollDraft, actor: User | None, now: datetime
) -> Poll:
    """A new poll on an article (audited)."""
    validate_draft(draft, now, new=True)
    poll = Poll(
        article_id=article.id,
        question=draft.question,
        max_choices=draft.max_choices,
        opens_at=draft.opens_at,
        closes_at=draft.closes_at,
        results_visibility=draft.results_visibility,
        voter_scope=draft.voter_scope,
        created_by_id=actor.id if actor else None,
    )
    poll.options = [PollOption(position=i, label=label) for i, label in enumerate(draft.options)]
    session.add(poll)
    session.flush()
    _audit(
        session,
        actor,
        poll,
        "create_poll",
        to_state=poll_state(poll, now).value,
        note=draft.question,
    )
    return poll


def _lock_poll(session: Session, poll_id: int) -> Poll:
    """The poll row locked against concurrent votes (they take FOR KEY SHARE on it)."""
    poll = session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .options(selectinload(Poll.options))
        .with_for_update(of=Poll)
    )
    if poll is None:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    return poll


FROZEN_MESSAGE = (
    "Er is al gestemd: vraag, antwoorden en instellingen liggen vast. "
    "Enkel het sluitingstijdstip en de zichtbaarheid kunnen nog veranderen."
)


def update_poll(
    session: Session, poll_id: int, draft: PollDraft, actor: User | None, now: datetime
) -> Poll:
    """Edit a poll; after the first ballot only closes_at and results_visibility may change."""
    poll = _lock_poll(session, poll_id)
    validate_draft(draft, now, new=False)
    old_state = poll_state(poll, now)
    changed: list[str] = []
    frozen_changes = []
    if draft.question != poll.question:
        frozen_changes.append("question")
    if draft.options != [o.label for o in poll.options]:
        frozen_changes.append("options")
    if draft.max_choices != poll.max_choices:
        frozen_changes.append("max_choices")
    if draft.opens_at != poll.opens_at:
        frozen_changes.append("opens_at")
    if draft.voter_scope is not poll.voter_scope:
        frozen_changes.append("voter_scope")
    if frozen_changes and has_ballots(session, poll.id):
        raise Conflict("poll_frozen", FROZEN_MESSAGE, details={"fields": frozen_changes})
    if "options" in frozen_changes:
        # No ballot refers to them (checked above under the row lock): replace them. The new
        # rows are written before the old ones go, so their ids are new: SQLite hands out the
        # highest deleted rowid again, and a vote from a page that still shows the old options
        # must be refused, not counted for whatever option took over its id.
        old_ids = [option.id for option in poll.options]
        session.execute(
            update(PollOption)
            .where(PollOption.poll_id == poll.id)
            .values(position=-1 - PollOption.position)  # out of the new ones' way
        )
        for i, label in enumerate(draft.options):
            session.add(PollOption(poll_id=poll.id, position=i, label=label))
        session.flush()
        session.execute(delete(PollOption).where(PollOption.id.in_(old_ids)))
        session.expire(poll, ["options"])
    poll.question = draft.question
    poll.max_choices = draft.max_choices
    poll.opens_at = draft.opens_at
    poll.voter_scope = draft.voter_scope
    changed.extend(frozen_changes)
    if draft.closes_at != poll.closes_at:
        poll.closes_at = draft.closes_at
        changed.append("closes_at")
    if draft.results_visibility is not poll.results_visibility:
        poll.results_visibility = draft.results_visibility
        changed.append("results_visibility")
    session.flush()
    session.refresh(poll, ["options"])
    if changed:
        _audit(
            session,
            actor,
            poll,
            "update_poll",
            from_state=old_state.value,
            to_state=poll_state(poll, now).value,
            note=", ".join(changed),
        )
    return poll


def close_poll(session: Session, poll_id: int, actor: User | None, now: datetime) -> Poll:
    """Close an open poll now."""
    poll = _lock_poll(session, poll_id)
    state = poll_state(poll, now)
    if state is not PollState.OPEN:
        raise Conflict("poll_not_open", "Enkel een open peiling kan gesloten worden.")
    poll.closes_at = now
    session.flush()
    _audit(session, actor, poll, "close_poll", from_state=state.value, to_state="closed")
    return poll


def reopen_poll(
    session: Session,
    poll_id: int,
    actor: User | None,
    now: datetime,
    closes_at: datetime | None = None,
) -> Poll:
    """Reopen a closed poll, open-ended or until `closes_at`."""
    poll = _lock_poll(session, poll_id)
    state = poll_state(poll, now)
    if state is not PollState.CLOSED:
        raise Conflict("poll_not_closed", "Enkel een gesloten peiling kan heropend worden.")
    if closes_at is not None and closes_at <= now:
        raise _invalid({"closes_at": "Het nieuwe sluitingstijdstip moet in de toekomst liggen."})
    poll.closes_at = closes_at
    session.flush()
    _audit(session, actor, poll, "reopen_poll", from_state="closed", to_state="open")
    return poll


def delete_poll(session: Session, poll_id: int, actor: User | None, now: datetime) -> None:
    """Delete a poll that has no ballots."""
    poll = _lock_poll(session, poll_id)
    if has_ballots(session, poll.id):
        raise Conflict(
            "poll_has_ballots",
            "Er is al gestemd: deze peiling kan niet meer verwijderd worden. Sluit ze.",
        )
    _audit(
        session,
        actor,
        poll,
        "delete_poll",
        from_state=poll_state(poll, now).value,
        to_state="deleted",
        note=poll.question,
    )
    session.delete(poll)
    session.flush()


# ---------------------------------------------------------------- voting


@dataclass(frozen=True)
class Voter:
    """Who votes: "u:<id>" for a logged-in fan, "a:<token id>" for an anonymous token."""

    key: str
    user_id: int | None = None

    @property
    def is_member(self) -> bool:
        return self.user_id is not None


@dataclass(frozen=True)
class VoteContext:
    """Request facts the rules need (the view gathers them)."""

    ip_hash: str | None
    ip_allowance: int  # ballots per poll per IP hash per hour before marking; 0 = off
    burst: bool = False  # the voter token was issued in a spike
    editor: bool = False
    allowance: RedisIpAllowance | None = None  # the allowance in Redis; None: count the rows


@dataclass(frozen=True)
class OptionSnapshot:
    """An option as the vote saw it (its counter includes this transaction's increment)."""

    id: int
    label: str
    vote_count: int


@dataclass(frozen=True)
class PollSnapshot:
    """The poll as the vote read and wrote it: what the answer needs, without ORM objects.

    Duck-types the attributes `poll_state`, `results_visible` and `poll_results` read.
    """

    id: int
    article_id: int
    question: str
    max_choices: int
    opens_at: datetime | None
    closes_at: datetime | None
    results_visibility: ResultsVisibility
    voter_scope: VoterScope
    ballot_count: int
    options: tuple[OptionSnapshot, ...]
    article_cms_id: str | None = None
    created_at: datetime | None = None


@dataclass
class VoteOutcome:
    """The voter's ballot (new or existing) and the poll it was cast on (with its counters)."""

    ballot_id: int
    created_at: datetime
    created: bool
    option_ids: list[int] = field(default_factory=list)
    poll: PollSnapshot | None = None


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


def _shift_counters(session: Session, poll: Poll, per_option: dict[int, int], ballots: int) -> None:
    """Add to the counters in the one fixed order: options by id, the poll, the article."""
    for option_id in sorted(per_option):
        if per_option[option_id]:
            session.execute(
                update(PollOption)
                .where(PollOption.id == option_id)
                .values(vote_count=PollOption.vote_count + per_option[option_id])
                .execution_options(synchronize_session=False)
            )
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


# The vote's reads run prebuilt Core statements (built once per dialect, bound by parameters);
# its writes are one statement on PostgreSQL (_pg_cast_statement) and plain SQL on SQLite's
# driver connection (_sqlite_insert_vote), answered from RETURNING.
_VOTE_STATEMENTS: dict[str, dict[str, Any]] = {}


def _vote_statements(dialect: str) -> dict[str, Any]:
    built = _VOTE_STATEMENTS.get(dialect)
    if built is not None:
        return built
    polls_t, options_t = Poll.__table__, PollOption.__table__
    ballots_t, choices_t = Ballot.__table__, BallotChoice.__table__
    # The poll and its options in one statement; FOR KEY SHARE OF polls on PostgreSQL: votes run
    # side by side but wait for an editor's pending option change (SQLite: the write lock).
    # What a vote's answer needs of the poll: read by `load`; the writes return the same.
    poll_columns = (
        polls_t.c.article_id,
        polls_t.c.question,
        polls_t.c.max_choices,
        polls_t.c.opens_at,
        polls_t.c.closes_at,
        polls_t.c.results_visibility,
        polls_t.c.voter_scope,
        polls_t.c.ballot_count,
        polls_t.c.created_at,
    )
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
    """Schedule, scope, state and options, in DESIGN.md's order; the parsed option ids."""
    state = poll_state(snapshot, now)  # type: ignore[arg-type]
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
    rows = conn.execute(stmts["load"], {"poll_id": poll_id}).all()
    if not rows:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    first = rows[0]
    return PollSnapshot(
        id=poll_id,
        article_id=first.article_id,
        question=first.question,
        max_choices=first.max_choices,
        opens_at=first.opens_at,
        closes_at=first.closes_at,
        results_visibility=first.results_visibility,
        voter_scope=first.voter_scope,
        ballot_count=first.ballot_count,
        created_at=first.created_at,
        options=tuple(
            OptionSnapshot(r.id, r.label, r.vote_count) for r in rows if r.id is not None
        ),
    )


def _options_changed() -> Conflict:
    return Conflict(
        "vote_conflict",
        "De peiling werd net gewijzigd. Bekijk de antwoorden en stem opnieuw.",
    )


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
    is read back after the write). On PostgreSQL that is one statement (_pg_cast_statement),
    its own transaction when none has begun; on SQLite five, all under the write lock. Both
    go to the driver directly.

    When nothing is inserted (a repeat voter, a poll that is closed, scheduled, for members, an
    unknown option, too many choices …) the checked path runs in a write transaction (on
    SQLite the same one; on PostgreSQL its first read begins one and takes FOR KEY SHARE OF
    polls): the poll with its options is read, the rules give the exact error in DESIGN.md's
    order, or the existing ballot comes back. Malformed option ids go to the
    checked path directly, so a scheduled poll stays 404 whatever the body says.

    The per-IP allowance (when on): on SQLite a count of the rows inside the ballot insert,
    exact under the write lock. On PostgreSQL, where votes run side by side, a mark in Redis
    (polls.allowance) when the context has it, one round trip before the write, taken back when
    no ballot is inserted; else (no Redis, or Redis fails) a count of the rows.
    """
    dialect = session.get_bind().dialect.name
    stmts = _vote_statements(dialect)
    option_ids = _well_formed(raw_option_ids)
    # SQLite counts the allowance inside the ballot insert (exact under its write lock).
    counted_in_redis = dialect != "sqlite" and context.ip_hash and context.ip_allowance > 0
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
            outcome = _insert_vote(session, stmts, poll_id, option_ids, voter, context, now, mark)
        if outcome is None:
            outcome = _checked_vote(
                session, stmts, poll_id, raw_option_ids, voter, context, now, mark
            )
    except BaseException:
        if mark is not None and allowance is not None:
            allowance.unmark(mark)
        raise
    if mark is not None and allowance is not None and not outcome.created:
        allowance.unmark(mark)  # the voter's ballot already existed
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


def _insert_vote(
    session: Session,
    stmts: dict[str, Any],
    poll_id: int,
    ordered: list[int],
    voter: Voter,
    context: VoteContext,
    now: datetime,
    mark: Mark | None,
) -> VoteOutcome | None:
    """The guarded ballot insert, its choices and the counters; None when nothing inserted."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        return _sqlite_insert_vote(conn, poll_id, ordered, voter, context, now)
    suspicion = _suspicion(conn, stmts, poll_id, voter, context, now, mark)
    values = {
        "poll_id": poll_id,
        "voter_key": voter.key,
        "user_id": voter.user_id,
        "ip_hash": context.ip_hash,
        "created_at": now,
        "is_suspicious": suspicion is not None,
        "suspicion": suspicion,
        "n_choices": len(ordered),
        "member": voter.is_member,
        "everyone": VoterScope.EVERYONE.value,
    }
    # Sent to psycopg directly (it prepares the statement after a few runs): the statement is
    # the whole vote, so SQLAlchemy's compile-cache lookup and row processing are left out.
    driver = conn.connection.driver_connection
    try:
        with (
            _statement_is_the_transaction(conn),
            driver.cursor(row_factory=namedtuple_row) as cursor,
        ):
            cursor.execute(
                _pg_cast_sql(conn.dialect, len(ordered)),
                {
                    **values,
                    **{f"o{i}": option_id for i, option_id in enumerate(ordered)},
                    "updated_at": utcnow(),
                },
            )
            rows = cursor.fetchall()
    except psycopg.IntegrityError:
        # A chosen option was deleted while this vote waited for the poll: the choice's
        # foreign key failed the statement, so nothing of the vote was written.
        raise _options_changed() from None
    if not rows:
        return None
    first = rows[0]
    bumped = {r.option_id for r in rows if r.bumped}
    if first.ballot_count is None or bumped != set(ordered):
        # Cannot happen: a chosen option that still exists is on this poll (the guard read it
        # there, and options never move), and a deleted one fails the statement above.
        raise _options_changed()
    options = tuple(OptionSnapshot(r.option_id, r.label, r.vote_count) for r in rows)
    poll_row = _WrittenPoll(
        first.article_id,
        first.question,
        first.max_choices,
        _utc(first.opens_at),
        _utc(first.closes_at),
        first.results_visibility,
        first.voter_scope,
        first.ballot_count,
        _utc(first.created_at),
    )
    return _outcome(poll_row, first.ballot_id, first.cms_id, options, ordered, now, poll_id)


def _utc(moment: datetime | None) -> datetime | None:
    """A timestamptz from psycopg (in the session's time zone) in UTC, as UTCDateTime gives."""
    return moment.astimezone(UTC) if moment is not None else None


# SQLite: the vote's writes go straight to the driver connection as plain SQL, under the write
# lock that start_write() took. Every statement here runs once per vote while every other
# worker waits for that lock, so the SQLAlchemy layer (statement cache lookup, parameter and
# result processing, the expanding IN rendered anew per call) is left out; sqlite3 keeps each
# statement prepared per connection. Types are converted with the models' own processors.
#
# The ballot insert's guard, on both dialects: the poll takes this vote (open at :created_at,
# the voter's scope, at most max_choices, every chosen option {chosen} on this poll). It is
# also the WHERE clause SQLite needs to parse INSERT … SELECT … ON CONFLICT.
_POLL_TAKES_VOTE = (
    " WHERE polls.id = :poll_id"
    " AND (polls.opens_at IS NULL OR polls.opens_at <= :created_at)"
    " AND (polls.closes_at IS NULL OR polls.closes_at > :created_at)"
    " AND polls.max_choices >= :n_choices"
    " AND (:member OR polls.voter_scope = :everyone)"
    " AND (SELECT count(*) FROM poll_options WHERE poll_options.poll_id = :poll_id"
    " AND poll_options.id IN ({chosen})) = :n_choices"
)
_SQLITE_INSERT_BALLOT = (
    "INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at, is_suspicious,"
    " suspicion, quarantined_at)"
    " SELECT :poll_id, :voter_key, :user_id, :ip_hash, :created_at, why.code IS NOT NULL,"
    " why.code, NULL FROM polls,"
    # The per-IP allowance is counted here, under the write lock, so it is exact: the ballots
    # of this poll from this IP hash in the last hour (one index range), before this one.
    " (SELECT CASE WHEN :ip_allowance > 0 AND (SELECT count(*) FROM ballots"
    " WHERE ballots.poll_id = :poll_id AND ballots.ip_hash = :ip_hash"
    " AND ballots.created_at >= :since) >= :ip_allowance THEN 'ip_allowance'"
    " WHEN :burst THEN 'burst' END AS code) AS why"
    + _POLL_TAKES_VOTE
    + " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id"
)
# Every option of the poll, +1 for the chosen ones, so the answer has all counts as they are.
_SQLITE_BUMP_OPTIONS = (
    "UPDATE poll_options SET vote_count = vote_count + (id IN ({chosen}))"
    " WHERE poll_id = :poll_id RETURNING id, position, label, vote_count"
)
_SQLITE_BUMP_POLL = (
    "UPDATE polls SET ballot_count = ballot_count + 1, updated_at = :updated_at"
    " WHERE id = :poll_id RETURNING article_id, question, max_choices, opens_at, closes_at,"
    " results_visibility, voter_scope, ballot_count, created_at"
)
_SQLITE_BUMP_ARTICLE = (
    "UPDATE articles SET vote_count = vote_count + 1, updated_at = :updated_at"
    " WHERE id = :article_id RETURNING cms_id"
)
_SQLITE_SQL: dict[int, tuple[str, str]] = {}
_UTC_TIME = UTCDateTime()  # one instance: type_processors caches per type object


@dataclass(frozen=True)
class _WrittenPoll:
    """The poll columns the vote's writes return, converted (what _outcome reads)."""

    article_id: int
    question: str
    max_choices: int
    opens_at: datetime | None
    closes_at: datetime | None
    results_visibility: str
    voter_scope: str
    ballot_count: int
    created_at: datetime


def _sqlite_insert_vote(
    conn: Any,
    poll_id: int,
    ordered: list[int],
    voter: Voter,
    context: VoteContext,
    now: datetime,
) -> VoteOutcome | None:
    """The guarded ballot insert, its choices and the counters, on SQLite's driver connection."""
    sql = _SQLITE_SQL.get(len(ordered))
    if sql is None:
        chosen = ", ".join(f":o{i}" for i in range(len(ordered)))
        sql = (
            _SQLITE_INSERT_BALLOT.format(chosen=chosen),
            _SQLITE_BUMP_OPTIONS.format(chosen=chosen),
        )
        _SQLITE_SQL[len(ordered)] = sql
    insert_ballot, bump_options = sql
    to_db, from_db = type_processors(_UTC_TIME, conn.dialect)
    chosen_ids = {f"o{i}": option_id for i, option_id in enumerate(ordered)}
    moment = to_db(now)
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(
            insert_ballot,
            {
                "poll_id": poll_id,
                "voter_key": voter.key,
                "user_id": voter.user_id,
                "ip_hash": context.ip_hash,
                "created_at": moment,
                "since": to_db(now - timedelta(hours=1)),
                "ip_allowance": context.ip_allowance if context.ip_hash else 0,
                "burst": context.burst and not voter.is_member,
                "n_choices": len(ordered),
                "member": voter.is_member,
                "everyone": VoterScope.EVERYONE.value,
                **chosen_ids,
            },
        )
        inserted = cursor.fetchone()
        if inserted is None:
            return None
        ballot_id = inserted[0]
        cursor.executemany(
            "INSERT INTO ballot_choices (ballot_id, option_id) VALUES (?, ?)",
            [(ballot_id, option_id) for option_id in ordered],
        )
        # Counters last: SQLite's write lock serialises whole transactions, so no row order
        # matters. The poll gives its fields for the answer, the article its cms_id.
        option_rows = cursor.execute(bump_options, {"poll_id": poll_id, **chosen_ids}).fetchall()
        stamp = to_db(utcnow())
        (
            article_id,
            question,
            max_choices,
            opens_at,
            closes_at,
            visibility,
            scope,
            ballot_count,
            created_at,
        ) = cursor.execute(_SQLITE_BUMP_POLL, {"updated_at": stamp, "poll_id": poll_id}).fetchone()
        (cms_id,) = cursor.execute(
            _SQLITE_BUMP_ARTICLE, {"updated_at": stamp, "article_id": article_id}
        ).fetchone()
    finally:
        cursor.close()
    poll_row = _WrittenPoll(
        article_id,
        question,
        max_choices,
        from_db(opens_at),
        from_db(closes_at),
        visibility,
        scope,
        ballot_count,
        from_db(created_at),
    )
    options = tuple(
        OptionSnapshot(option_id, label, votes)
        for option_id, _, label, votes in sorted(option_rows, key=lambda r: r[1])
    )
    return _outcome(poll_row, ballot_id, cms_id, options, ordered, now, poll_id)


@contextmanager
def _statement_is_the_transaction(conn: Any) -> Iterator[None]:
    """PostgreSQL: run the next statement in autocommit when no transaction has begun yet.

    The vote's writes are one statement, which PostgreSQL runs atomically on its own: in
    autocommit its implicit transaction saves the BEGIN and COMMIT round trips (the commit is
    as durable). psycopg sends BEGIN only with the first statement, so a request that has not
    read the database yet is idle here; one that has (its transaction is open) just goes on.
    The connection is put back as it was before it returns to the pool (as SQLAlchemy's own
    pool ping does).
    """
    driver = conn.connection.driver_connection
    if driver.autocommit or driver.info.transaction_status != TransactionStatus.IDLE:
        yield
        return
    driver.autocommit = True
    try:
        yield
    finally:
        driver.autocommit = False


def _outcome(
    poll_row: Any,
    ballot_id: int,
    cms_id: str | None,
    options: tuple[OptionSnapshot, ...],
    ordered: list[int],
    now: datetime,
    poll_id: int,
) -> VoteOutcome:
    """The new ballot, with the poll as this vote wrote it (from RETURNING)."""
    written = PollSnapshot(
        id=poll_id,
        article_id=poll_row.article_id,
        question=poll_row.question,
        max_choices=poll_row.max_choices,
        opens_at=poll_row.opens_at,
        closes_at=poll_row.closes_at,
        results_visibility=ResultsVisibility(poll_row.results_visibility),
        voter_scope=VoterScope(poll_row.voter_scope),
        ballot_count=poll_row.ballot_count,
        options=options,
        article_cms_id=cms_id,
        created_at=poll_row.created_at,
    )
    return VoteOutcome(ballot_id, now, True, list(ordered), written)


def _checked_vote(
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
    outcome = _insert_vote(session, stmts, poll_id, ordered, voter, context, now, mark)
    if outcome is None:  # cannot happen: the rules passed under the lock and no ballot exists
        raise Conflict("vote_conflict", "Je stem kon niet verwerkt worden. Probeer opnieuw.")
    return outcome


_PG_CAST: dict[int, Any] = {}


def _pg_cast_statement(n_options: int) -> Any:
    """PostgreSQL: the guarded ballot insert, its choices and every counter in one statement.

    The insert reads the poll FOR KEY SHARE (an editor's pending change is waited for and seen)
    and inserts only while it takes this vote. Each counter update waits for the step before it
    (`EXISTS (SELECT FROM <previous>)`, a one-time filter PostgreSQL evaluates before it touches
    the table), so the rows are locked in the fixed order: options by ascending id (the caller
    sorts them), the poll, the article; the choices follow the options. Rows come back per
    option of the poll: the counted ones from RETURNING, the others as the statement saw them.
    No row comes back when no ballot was inserted.
    """
    built = _PG_CAST.get(n_options)
    if built is not None:
        return built
    chosen = ", ".join(f":o{i}" for i in range(n_options))
    values = ", ".join(f"(CAST(:o{i} AS INTEGER))" for i in range(n_options))
    parts = [
        "b AS (INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at,"
        " is_suspicious, suspicion, quarantined_at) SELECT :poll_id, :voter_key, :user_id,"
        " :ip_hash, :created_at, :is_suspicious, :suspicion, NULL FROM polls"
        + _POLL_TAKES_VOTE.format(chosen=chosen)
        + " FOR KEY SHARE OF polls"
        " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id)",
    ]
    previous = "b"
    for i in range(n_options):
        parts.append(
            f"o{i} AS (UPDATE poll_options SET vote_count = vote_count + 1"
            f" WHERE id = :o{i} AND poll_id = :poll_id AND EXISTS (SELECT FROM {previous})"
            " RETURNING id, vote_count)"
        )
        previous = f"o{i}"
    # The choices follow the ballot alone: should a chosen option be deleted meanwhile, its
    # foreign key fails the whole statement instead of leaving a ballot without its choice.
    parts.append(
        "c AS (INSERT INTO ballot_choices (ballot_id, option_id)"
        f" SELECT b.id, v.option_id FROM b, (VALUES {values}) AS v(option_id))"
    )
    parts.append(
        "p AS (UPDATE polls SET ballot_count = ballot_count + 1, updated_at = :updated_at"
        f" WHERE id = :poll_id AND EXISTS (SELECT FROM {previous}) RETURNING article_id,"
        " question, max_choices, opens_at, closes_at, results_visibility, voter_scope,"
        " ballot_count, created_at)"
    )
    parts.append(
        "a AS (UPDATE articles SET vote_count = vote_count + 1, updated_at = :updated_at"
        " WHERE id = (SELECT article_id FROM p) RETURNING cms_id)"
    )
    counted = " UNION ALL ".join(f"SELECT * FROM o{i}" for i in range(n_options))
    built = text(
        "WITH " + ", ".join(parts) + " SELECT b.id AS ballot_id, p.article_id, p.question,"
        " p.max_choices, p.opens_at, p.closes_at, p.results_visibility, p.voter_scope,"
        " p.ballot_count, p.created_at, a.cms_id, opt.id AS option_id, opt.label,"
        " COALESCE(o.vote_count, opt.vote_count) AS vote_count, o.id IS NOT NULL AS bumped"
        " FROM b LEFT JOIN p ON true LEFT JOIN a ON true"
        " LEFT JOIN poll_options AS opt ON opt.poll_id = :poll_id"
        f" LEFT JOIN ({counted}) AS o ON o.id = opt.id ORDER BY opt.position"
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("updated_at", type_=UTCDateTime()),
        bindparam("is_suspicious", type_=Boolean()),
        bindparam("member", type_=Boolean()),
    )
    _PG_CAST[n_options] = built
    return built


_PG_CAST_SQL: dict[int, str] = {}


def _pg_cast_sql(dialect: Any, n_options: int) -> str:
    """_pg_cast_statement as psycopg's SQL text (named %(…)s parameters), rendered once."""
    sql = _PG_CAST_SQL.get(n_options)
    if sql is None:
        sql = _PG_CAST_SQL[n_options] = str(_pg_cast_statement(n_options).compile(dialect=dialect))
    return sql


# ---------------------------------------------------------------- quarantine


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
    poll = session.get(Poll, poll_id)
    if poll is None:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    conditions = _ballot_filter(poll.id, scope, ids)
    if quarantine:
        conditions.append(Ballot.quarantined_at.is_(None))
        values = {"quarantined_at": now}
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
    sign = -1 if quarantine else 1
    per_option = {k: sign * v for k, v in _per_option(session, moved).items()}
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
    _audit(
        session,
        actor,
        poll,
        "quarantine" if quarantine else "release",
        note=f"{len(moved)} stemmen ({scope.value})",
    )
    _shift_counters(session, poll, per_option, sign * len(moved))
    session.flush()
    session.expire_all()
    return moved
