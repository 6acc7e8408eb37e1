"""Poll rules: create, read, edit, schedule, close/reopen, delete.

Casting a vote is polls.voting's (its writes are writes/'s), quarantine polls.quarantine's;
their names are taken from here too, so callers have one module for the poll's services.
Services take a Session, flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from errors import Conflict, DomainError, Invalid, NotFound
from models import (
    Article,
    Ballot,
    Poll,
    PollKind,
    PollOption,
    ResultsVisibility,
    User,
    VoterScope,
)
from moderation.audit import record_action
from polls.predictions import clean_name, match_problems
from polls.quarantine import QuarantineScope, set_quarantine
from polls.ratings import PlayerDraft, lineup_rows, validate_lineup
from polls.states import PollState, poll_state
from polls.voting import (
    OptionSnapshot,
    PollSnapshot,
    VoteContext,
    VoteOutcome,
    Voter,
    cast_vote,
    parse_option_ids,
)

__all__ = [  # the poll rules below, and what callers take from here of voting and quarantine
    "FROZEN_MESSAGE",
    "LABEL_MAX",
    "MAX_OPTIONS",
    "MIN_OPTIONS",
    "QUESTION_MAX",
    "DomainError",
    "PollDraft",
    "close_poll",
    "create_poll",
    "delete_poll",
    "find_ballot",
    "get_poll",
    "has_ballots",
    "reopen_poll",
    "update_poll",
    "validate_draft",
    "OptionSnapshot",
    "PollSnapshot",
    "PollState",
    "QuarantineScope",
    "VoteContext",
    "VoteOutcome",
    "Voter",
    "cast_vote",
    "parse_option_ids",
    "poll_state",
    "set_quarantine",
]

MIN_OPTIONS = 2
MAX_OPTIONS = 10
QUESTION_MAX = 300
LABEL_MAX = 200


# ---------------------------------------------------------------- reading


def get_poll(session: Session, poll_id: int, now: datetime, *, editor: bool = False) -> Poll:
    """The poll with its options (and line-up); a scheduled poll is 404 to everyone but
    editors."""
    poll = session.scalar(
        select(Poll)
        .where(Poll.id == poll_id)
        .options(selectinload(Poll.options), selectinload(Poll.players))
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
    kind: PollKind = PollKind.CHOICE
    # A player_ratings poll's line-up, as sent: [{"name", "shirt_number", "role"}, …] and the
    # coach's name; validate_draft turns it into `lineup` (coach last).
    players: list | None = None
    coach: str | None = None
    lineup: list[PlayerDraft] | None = None
    # A score_prediction poll's match (kick-off = closes_at); normalised by validate_draft.
    home_team: str | None = None
    away_team: str | None = None
    competition: str | None = None


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
    prediction = draft.kind is PollKind.SCORE_PREDICTION
    if prediction:
        if labels:
            fields["options"] = "Een voorspelling heeft geen antwoorden, wel een wedstrijd."
        if draft.max_choices != 1:
            fields["max_choices"] = "Een voorspelling heeft geen maximum aantal keuzes."
        if draft.players is not None or draft.coach is not None:
            fields["players"] = "Enkel een spelersbeoordeling heeft een opstelling."
        if new:
            fields.update(
                match_problems(
                    draft.home_team, draft.away_team, draft.competition, draft.closes_at
                )
            )
        elif draft.closes_at is None:
            fields["closes_at"] = "Vul de aftrap in: dan sluiten de voorspellingen."
    elif any(v is not None for v in (draft.home_team, draft.away_team, draft.competition)):
        fields["home_team"] = "Enkel een voorspelling heeft een wedstrijd."
    if prediction:
        pass
    elif draft.kind is PollKind.PLAYER_RATINGS:
        if labels:
            fields["options"] = "Een spelersbeoordeling heeft geen antwoorden, wel een opstelling."
        if draft.max_choices != 1:
            fields["max_choices"] = "Een spelersbeoordeling heeft geen maximum aantal keuzes."
    elif draft.players is not None or draft.coach is not None:
        fields["players"] = "Enkel een spelersbeoordeling heeft een opstelling."
    elif not MIN_OPTIONS <= len(labels) <= MAX_OPTIONS:
        fields["options"] = f"Geef {MIN_OPTIONS} tot {MAX_OPTIONS} antwoorden."
    elif any(len(label) > LABEL_MAX for label in labels):
        fields["options"] = f"Een antwoord heeft hoogstens {LABEL_MAX} tekens."
    elif len({label.casefold() for label in labels}) != len(labels):
        fields["options"] = "Elk antwoord mag maar één keer voorkomen."
    if not isinstance(draft.max_choices, int) or isinstance(draft.max_choices, bool):
        fields["max_choices"] = "Geef een aantal."
    elif draft.kind in (PollKind.PLAYER_RATINGS, PollKind.SCORE_PREDICTION):
        pass
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
    if draft.kind is PollKind.PLAYER_RATINGS and new:
        draft.lineup = validate_lineup(draft.players, draft.coach)
    if prediction and new:
        draft.home_team = clean_name(draft.home_team)
        draft.away_team = clean_name(draft.away_team)
        draft.competition = clean_name(draft.competition)
        # The leaderboard is one of members: only they predict.
        draft.voter_scope = VoterScope.LOGGED_IN
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
        kind=draft.kind,
        max_choices=draft.max_choices,
        opens_at=draft.opens_at,
        closes_at=draft.closes_at,
        results_visibility=draft.results_visibility,
        voter_scope=draft.voter_scope,
        home_team=draft.home_team,
        away_team=draft.away_team,
        competition=draft.competition,
        created_by_id=actor.id if actor else None,
    )
    poll.options = [PollOption(position=i, label=label) for i, label in enumerate(draft.options)]
    poll.players = lineup_rows(draft.lineup or [])
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
    draft.kind = poll.kind  # a poll keeps its kind (and a ratings poll its line-up)
    draft.players = draft.coach = None
    draft.home_team = draft.away_team = draft.competition = None  # the match stays as created
    if poll.kind is PollKind.SCORE_PREDICTION:
        draft.voter_scope = VoterScope.LOGGED_IN  # members only, always
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
        _refuse_once_resolved(poll)
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


def _refuse_once_resolved(poll: Poll) -> None:
    """A score prediction with its result in keeps its kick-off: reopened, members would
    predict knowing the score."""
    if poll.resolved_at is not None:
        raise Conflict(
            "match_resolved",
            "De uitslag is al ingevuld: de aftrap van deze voorspelling ligt vast.",
        )


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
    _refuse_once_resolved(poll)
    if closes_at is not None and closes_at <= now:
        raise _invalid({"closes_at": "Het nieuwe sluitingstijdstip moet in de toekomst liggen."})
    poll.closes_at = closes_at
    poll.closed_announced_at = None  # its next close is news again
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
