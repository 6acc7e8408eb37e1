"""Poll rules: create, edit, schedule, close/reopen, delete, cast a vote, quarantine ballots.

Services take a Session, flush, never commit. Counters (options by ascending id, then the poll,
then the article) are changed with SQL increments, last in each transaction and always in that
order, so concurrent ballots and quarantines cannot deadlock.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Boolean, bindparam, delete, func, select, text, update
from sqlalchemy.orm import Session, selectinload

from db import WRITE_OPTION, begin_write
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
from polls.allowance import Mark, RedisIpAllowance

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
        # No ballot refers to them (checked above under the row lock): replace them.
        session.execute(delete(PollOption).where(PollOption.poll_id == poll.id))
        session.expire(poll, ["options"])
        session.flush()
        for i, label in enumerate(draft.options):
            session.add(PollOption(poll_id=poll.id, position=i, label=label))
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
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in raw)
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


# The vote path runs prebuilt Core statements (built once per dialect, bound by parameters):
# no ORM identity map, no per-call statement construction, answers from RETURNING.
_VOTE_STATEMENTS: dict[str, dict[str, Any]] = {}


def _vote_statements(dialect: str) -> dict[str, Any]:
    built = _VOTE_STATEMENTS.get(dialect)
    if built is not None:
        return built
    polls_t, options_t = Poll.__table__, PollOption.__table__
    ballots_t, choices_t, articles_t = Ballot.__table__, BallotChoice.__table__, Article.__table__
    # The poll and its options in one statement; FOR KEY SHARE OF polls on PostgreSQL: votes run
    # side by side but wait for an editor's pending option change (SQLite: the write lock).
    load = (
        select(
            polls_t.c.article_id,
            polls_t.c.question,
            polls_t.c.max_choices,
            polls_t.c.opens_at,
            polls_t.c.closes_at,
            polls_t.c.results_visibility,
            polls_t.c.voter_scope,
            polls_t.c.ballot_count,
            polls_t.c.created_at,
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
    # Spelled out: the dialects' insert().on_conflict_do_nothing() has no cache key, so it would
    # be compiled again on every vote. The same SQL works on SQLite (3.35+) and PostgreSQL.
    insert_ballot = text(
        "INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at, is_suspicious,"
        " suspicion, quarantined_at) VALUES (:poll_id, :voter_key, :user_id, :ip_hash,"
        " :created_at, :is_suspicious, :suspicion, NULL)"
        " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id"
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("is_suspicious", type_=Boolean()),
    )
    # The read-first path (SQLite): the same insert, made only while the poll row still takes
    # this vote (open at :created_at, voter scope, max_choices). The SELECT has a WHERE clause,
    # which SQLite needs to parse INSERT … SELECT … ON CONFLICT.
    insert_ballot_guarded = text(
        "INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at, is_suspicious,"
        " suspicion, quarantined_at) SELECT :poll_id, :voter_key, :user_id, :ip_hash,"
        " :created_at, :is_suspicious, :suspicion, NULL FROM polls WHERE polls.id = :poll_id"
        " AND (polls.opens_at IS NULL OR polls.opens_at <= :created_at)"
        " AND (polls.closes_at IS NULL OR polls.closes_at > :created_at)"
        " AND polls.max_choices >= :n_choices"
        " AND (:member OR polls.voter_scope = :everyone)"
        " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id"
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("is_suspicious", type_=Boolean()),
        bindparam("member", type_=Boolean()),
    )
    existing = (
        select(ballots_t.c.id, ballots_t.c.created_at, choices_t.c.option_id)
        .select_from(ballots_t.outerjoin(choices_t, choices_t.c.ballot_id == ballots_t.c.id))
        .where(
            ballots_t.c.poll_id == bindparam("poll_id"),
            ballots_t.c.voter_key == bindparam("voter_key"),
        )
        .order_by(choices_t.c.option_id)
    )
    bump_options = (
        update(options_t)
        .where(options_t.c.id.in_(bindparam("option_ids", expanding=True)))
        .values(vote_count=options_t.c.vote_count + 1)
        .returning(options_t.c.id, options_t.c.vote_count, options_t.c.poll_id, options_t.c.label)
    )
    bump_poll = (
        update(polls_t)
        .where(polls_t.c.id == bindparam("poll_id"))
        .values(ballot_count=polls_t.c.ballot_count + 1)
        .returning(polls_t.c.ballot_count)
    )
    bump_article = (
        update(articles_t)
        .where(articles_t.c.id == bindparam("article_id"))
        .values(vote_count=articles_t.c.vote_count + 1)
        .returning(articles_t.c.cms_id)
    )
    built = {
        "load": load,
        "allowance": allowance,
        "insert_ballot": insert_ballot,
        "insert_ballot_guarded": insert_ballot_guarded,
        "insert_choices": choices_t.insert(),
        "existing": existing,
        "bump_options": bump_options,
        "bump_poll": bump_poll,
        "bump_article": bump_article,
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

    Statements: the poll with its options (one read); the per-IP allowance (when on): a mark
    in Redis (polls.allowance) when the context has it, else a count of the rows in the write
    transaction; INSERT … ON CONFLICT DO NOTHING RETURNING id, the choices, then the counters
    with RETURNING, last and in the fixed order (options by ascending id, the poll, the
    article). On PostgreSQL the insert, choices and counters are one statement (a chain of
    CTEs, see _pg_cast_statement). The answer is built from what was read and written: nothing
    is read back after the write. A Redis mark whose ballot is not inserted is taken back.

    Read first on SQLite: when the session is not yet a write transaction (a @read_first
    route), the poll is read and checked in a read transaction, which then ends; only the
    writes run under the write lock (BEGIN IMMEDIATE), so the two workers overlap on the
    reads. What an editor may change in between is checked again by the writes themselves,
    at no extra statement on the common path:
    - open state, voter scope and max_choices: the ballot INSERT only inserts while the poll
      row still allows this vote (its WHERE); when it inserts nothing (an existing ballot, or a
      poll changed in between) the poll is read again under the lock and the vote goes the
      locked way: the same answers as if the editor had been a moment earlier;
    - the options (replaceable only while there are no ballots, and SQLite may hand a deleted
      option's id to a new row): the option counter UPDATE returns poll_id and label, and any
      difference from what the voter saw is 409 vote_conflict (rolled back, nothing counted);
    - the per-IP allowance is exact either way: Redis counts atomically (MULTI/EXEC), and the
      fallback counts the rows inside the write transaction (under SQLite's write lock).
    Sessions that already write (other callers, PostgreSQL routes hold FOR KEY SHARE on the
    poll from the first read) run everything in their one transaction as before.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    stmts = _vote_statements(dialect)
    read_first = dialect == "sqlite" and not conn.get_execution_options().get(WRITE_OPTION)
    snapshot = _load_snapshot(conn, stmts, poll_id)
    option_ids = _check_vote(snapshot, raw_option_ids, voter, context, now)

    # The per-IP allowance in Redis: one round trip, before any write lock. Without Redis (or
    # when it fails) the rows are counted inside the write transaction, as before.
    mark = None
    if context.ip_hash and context.ip_allowance > 0 and context.allowance is not None:
        assert snapshot.created_at is not None
        mark = context.allowance.mark(poll_id, snapshot.created_at, context.ip_hash, voter.key, now)
    try:
        outcome = _write_ballot(
            session,
            stmts,
            snapshot,
            option_ids,
            raw_option_ids,
            voter,
            context,
            now,
            read_first,
            mark,
        )
    except BaseException:
        if mark is not None and context.allowance is not None:
            context.allowance.unmark(mark)
        raise
    if mark is not None and context.allowance is not None and not outcome.created:
        context.allowance.unmark(mark)  # the voter's ballot already existed
    return outcome


def _write_ballot(
    session: Session,
    stmts: dict[str, Any],
    snapshot: PollSnapshot,
    option_ids: list[int],
    raw_option_ids: object,
    voter: Voter,
    context: VoteContext,
    now: datetime,
    read_first: bool,
    mark: Mark | None,
) -> VoteOutcome:
    """The write half of cast_vote: the ballot, its choices and the counters."""
    poll_id = snapshot.id
    if read_first:
        session.commit()  # the read transaction: nothing was written
        begin_write(session)
    conn = session.connection()
    dialect = conn.dialect.name

    suspicion = None
    if mark is not None:
        if mark.before >= context.ip_allowance:
            suspicion = SUSPICION_IP
    elif context.ip_hash and context.ip_allowance > 0:
        recent = conn.execute(
            stmts["allowance"],
            {"poll_id": poll_id, "ip_hash": context.ip_hash, "since": now - timedelta(hours=1)},
        ).scalar()
        if (recent or 0) >= context.ip_allowance:
            suspicion = SUSPICION_IP
    if suspicion is None and context.burst and not voter.is_member:
        suspicion = SUSPICION_BURST

    values = {
        "poll_id": poll_id,
        "voter_key": voter.key,
        "user_id": voter.user_id,
        "ip_hash": context.ip_hash,
        "created_at": now,
        "is_suspicious": suspicion is not None,
        "suspicion": suspicion,
    }
    ordered = sorted(option_ids)
    if dialect == "postgresql":
        # One statement: ballot, choices and counters (in the fixed order) with their RETURNING.
        rows = conn.execute(
            _pg_cast_statement(len(ordered)),
            {
                **values,
                **{f"o{i}": option_id for i, option_id in enumerate(ordered)},
                "article_id": snapshot.article_id,
                "updated_at": utcnow(),
            },
        ).all()
        if rows:
            bumped = [r for r in rows if r.id is not None]
            _check_bumped(bumped, ordered, snapshot)
            first = rows[0]
            return _written(
                snapshot, first.ballot_id, now, ordered, bumped, first.ballot_count, first.cms_id
            )
        ballot_id = None
    elif read_first:
        guard = {
            "n_choices": len(option_ids),
            "member": voter.is_member,
            "everyone": VoterScope.EVERYONE.value,
        }
        ballot_id = conn.execute(stmts["insert_ballot_guarded"], {**values, **guard}).scalar()
    else:
        ballot_id = conn.execute(stmts["insert_ballot"], values).scalar()
    if ballot_id is None:
        if read_first:
            # Under the write lock now: read the poll again and check as the locked path does.
            snapshot = _load_snapshot(conn, stmts, poll_id)
            option_ids = _check_vote(snapshot, raw_option_ids, voter, context, now)
            ordered = sorted(option_ids)
        found = conn.execute(stmts["existing"], {"poll_id": poll_id, "voter_key": voter.key}).all()
        if found:
            chosen = [r.option_id for r in found if r.option_id is not None]
            return VoteOutcome(found[0].id, found[0].created_at, False, chosen, snapshot)
        if read_first:  # the poll changed in between and still takes this vote
            ballot_id = conn.execute(stmts["insert_ballot"], values).scalar()
        if ballot_id is None:  # cannot happen: the conflict row is committed and visible
            raise Conflict("vote_conflict", "Je stem kon niet verwerkt worden. Probeer opnieuw.")

    conn.execute(
        stmts["insert_choices"],
        [{"ballot_id": ballot_id, "option_id": option_id} for option_id in ordered],
    )
    # Counters last, in the fixed order. SQLite's write lock serialises whole transactions, so
    # one statement does for the options.
    bumped = conn.execute(stmts["bump_options"], {"option_ids": ordered}).all()
    _check_bumped(bumped, ordered, snapshot)
    ballot_count = conn.execute(stmts["bump_poll"], {"poll_id": poll_id}).scalar()
    cms_id = conn.execute(stmts["bump_article"], {"article_id": snapshot.article_id}).scalar()
    return _written(snapshot, ballot_id, now, ordered, bumped, ballot_count, cms_id)


def _check_bumped(bumped: Sequence[Any], ordered: list[int], snapshot: PollSnapshot) -> None:
    """The counter update must have hit exactly the options the voter saw (else 409)."""
    seen = {o.id: o.label for o in snapshot.options}
    if len(bumped) != len(ordered) or any(
        r.poll_id != snapshot.id or seen.get(r.id) != r.label for r in bumped
    ):
        raise _options_changed()


def _written(
    snapshot: PollSnapshot,
    ballot_id: int,
    now: datetime,
    ordered: list[int],
    bumped: Sequence[Any],
    ballot_count: int,
    cms_id: str | None,
) -> VoteOutcome:
    """The new ballot, with the poll as this vote wrote it (counters from RETURNING)."""
    counts = {r.id: r.vote_count for r in bumped}
    written = replace(
        snapshot,
        ballot_count=ballot_count,
        article_cms_id=cms_id,
        options=tuple(
            OptionSnapshot(o.id, o.label, counts.get(o.id, o.vote_count)) for o in snapshot.options
        ),
    )
    return VoteOutcome(ballot_id, now, True, ordered, written)


_PG_CAST: dict[int, Any] = {}


def _pg_cast_statement(n_options: int) -> Any:
    """PostgreSQL: the ballot, its choices and every counter in one statement (one round trip).

    Each counter update waits for the step before it (`EXISTS (SELECT FROM <previous>)`, a
    one-time filter PostgreSQL evaluates before it touches the table), so the rows are locked in
    the fixed order: options by ascending id (the caller sorts them), the poll, the article.
    When the ballot already exists nothing is inserted or counted and no row comes back.
    """
    built = _PG_CAST.get(n_options)
    if built is not None:
        return built
    values = ", ".join(f"(CAST(:o{i} AS INTEGER))" for i in range(n_options))
    parts = [
        "b AS (INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at,"
        " is_suspicious, suspicion, quarantined_at) VALUES (:poll_id, :voter_key, :user_id,"
        " :ip_hash, :created_at, :is_suspicious, :suspicion, NULL)"
        " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id)",
        "c AS (INSERT INTO ballot_choices (ballot_id, option_id)"
        f" SELECT b.id, v.option_id FROM b, (VALUES {values}) AS v(option_id))",
    ]
    previous = "b"
    for i in range(n_options):
        parts.append(
            f"o{i} AS (UPDATE poll_options SET vote_count = vote_count + 1"
            f" WHERE id = :o{i} AND EXISTS (SELECT FROM {previous})"
            " RETURNING id, vote_count, poll_id, label)"
        )
        previous = f"o{i}"
    parts.append(
        "p AS (UPDATE polls SET ballot_count = ballot_count + 1, updated_at = :updated_at"
        f" WHERE id = :poll_id AND EXISTS (SELECT FROM {previous}) RETURNING ballot_count)"
    )
    parts.append(
        "a AS (UPDATE articles SET vote_count = vote_count + 1, updated_at = :updated_at"
        " WHERE id = :article_id AND EXISTS (SELECT FROM p) RETURNING cms_id)"
    )
    options = " UNION ALL ".join(f"SELECT * FROM o{i}" for i in range(n_options))
    built = text(
        "WITH " + ", ".join(parts) + " SELECT b.id AS ballot_id, o.id, o.vote_count, o.poll_id,"
        " o.label, (SELECT ballot_count FROM p) AS ballot_count, (SELECT cms_id FROM a) AS cms_id"
        f" FROM b LEFT JOIN ({options}) AS o ON true ORDER BY o.id"
    ).bindparams(
        bindparam("created_at", type_=UTCDateTime()),
        bindparam("updated_at", type_=UTCDateTime()),
        bindparam("is_suspicious", type_=Boolean()),
    )
    _PG_CAST[n_options] = built
    return built


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
