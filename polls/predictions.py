"""Score predictions: a poll kind whose "vote" is a member's predicted final score.

A score_prediction poll names a match (home_team, away_team), its competition (the
leaderboard's key, e.g. "Jupiler Pro League 2026-27") and its kick-off, which is the poll's
closes_at: predictions are taken until kick-off. Only members predict (the leaderboard is one of
members). A prediction is one ballot under the choice polls' one-ballot rules (the ballots'
unique (poll_id, voter_key); quarantine leaves it out of the leaderboard), and its score is a
row of score_predictions (ballot, home_goals, away_goals, points).

After kick-off the editor enters the final score: one transaction sets it on the poll and
scores every prediction of the poll in one UPDATE (exact score TRIBUNE_PREDICTION_EXACT_POINTS,
right outcome TRIBUNE_PREDICTION_OUTCOME_POINTS, else 0). A corrected result rescores them all.

The leaderboard keeps no counters: it is one aggregate query over the scored predictions of the
competition's polls (ballots of members, not in quarantine). What can drift is a prediction's
stored `points`: `tribune recount` rescores every resolved poll's predictions from its result
and the points it was scored with (polls.exact_points, polls.outcome_points). Account deletion
unlinks the member's ballots (the ballots' existing rule), which takes them off the leaderboard.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Integer, and_, case, func, select, update
from sqlalchemy.orm import Session

from db import start_write
from errors import Conflict, DomainError, Invalid, NotFound
from models import Ballot, Poll, PollKind, ScorePrediction, User
from moderation.audit import record_action
from ops.metrics import record_on_commit
from polls.states import PollState, poll_state
from writes.votes import Voter

TEAM_MAX = 60
COMPETITION_MAX = 60
GOALS_MIN, GOALS_MAX = 0, 20
LEADERBOARD_TOP = 50


def clean_name(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def is_competition_name(value: str) -> bool:
    """Whether a prediction poll could carry this competition (cleaned, at most 60 characters,
    no control characters)."""
    return (
        0 < len(value) <= COMPETITION_MAX
        and value == clean_name(value)
        and value.isprintable()
    )


def match_problems(
    home_team: object, away_team: object, competition: object, closes_at: datetime | None
) -> dict[str, str]:
    """A Dutch message per field of a prediction poll's match that is missing or wrong."""
    fields: dict[str, str] = {}
    home, away, comp = clean_name(home_team), clean_name(away_team), clean_name(competition)
    for name, value, label in (
        ("home_team", home, "de thuisploeg"),
        ("away_team", away, "de bezoekers"),
    ):
        if not value:
            fields[name] = f"Vul {label} in."
        elif len(value) > TEAM_MAX:
            fields[name] = f"Een ploegnaam heeft hoogstens {TEAM_MAX} tekens."
    if home and away and home.casefold() == away.casefold():
        fields["away_team"] = "Een ploeg speelt niet tegen zichzelf."
    if not comp:
        fields["competition"] = "Vul de competitie in (bv. Jupiler Pro League 2026-27)."
    elif len(comp) > COMPETITION_MAX:
        fields["competition"] = f"Een competitie heeft hoogstens {COMPETITION_MAX} tekens."
    if closes_at is None:
        fields["closes_at"] = "Vul de aftrap in: dan sluiten de voorspellingen."
    return fields


def parse_goals(home: object, away: object, code: str = "invalid_prediction") -> tuple[int, int]:
    """(home, away) goals, each a whole number 0–20; else 422 with `code`."""
    values = []
    for value in (home, away):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if not isinstance(value, int) or isinstance(value, bool) or not (
            GOALS_MIN <= value <= GOALS_MAX
        ):
            raise Invalid(
                code, f"Geef per ploeg een aantal doelpunten van {GOALS_MIN} tot {GOALS_MAX}."
            )
        values.append(value)
    return values[0], values[1]


def outcome(home: int, away: int) -> int:
    """1 a home win, 0 a draw, -1 an away win."""
    return (home > away) - (home < away)


def points_for(
    predicted: tuple[int, int], result: tuple[int, int], exact: int, right_outcome: int
) -> int:
    if predicted == result:
        return exact
    if outcome(*predicted) == outcome(*result):
        return right_outcome
    return 0


# ---------------------------------------------------------------- predicting


@dataclass(frozen=True)
class PredictionOutcome:
    ballot_id: int
    created_at: datetime
    created: bool
    home_goals: int
    away_goals: int
    points: int | None


def _load_poll(session: Session, poll_id: int, *, lock: bool = False) -> Poll:
    stmt = select(Poll).where(Poll.id == poll_id)
    stmt = stmt.with_for_update(of=Poll) if lock else stmt.with_for_update(
        read=True, key_share=True, of=Poll
    )
    poll = session.scalar(stmt)
    if poll is None:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    return poll


def _existing(session: Session, poll_id: int, voter_key: str) -> PredictionOutcome | None:
    row = session.execute(
        select(Ballot.id, Ballot.created_at, ScorePrediction)
        .join(ScorePrediction, ScorePrediction.ballot_id == Ballot.id)
        .where(Ballot.poll_id == poll_id, Ballot.voter_key == voter_key)
    ).first()
    if row is None:
        return None
    pred = row[2]
    return PredictionOutcome(
        row.id, row.created_at, False, pred.home_goals, pred.away_goals, pred.points
    )


def predict(
    session: Session,
    poll_id: int,
    home: object,
    away: object,
    voter: Voter | None,
    now: datetime,
    *,
    editor: bool = False,
    ip_hash: str | None = None,
) -> PredictionOutcome:
    """One prediction per member per poll, before kick-off: created, or the existing one back
    (200; a prediction is not changed). In the write transaction, the poll read FOR KEY SHARE
    (an editor's result waits)."""
    from polls.ratings import _statements  # the ballot INSERT … ON CONFLICT and the counters

    stmts = _statements(session.get_bind().dialect.name)
    start_write(session)
    poll = _load_poll(session, poll_id)
    if poll.kind is not PollKind.SCORE_PREDICTION:
        raise Conflict("not_a_prediction_poll", "In deze peiling voorspel je geen uitslag.")
    state = poll_state(poll, now)
    if state is PollState.SCHEDULED:
        if not editor:
            raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
        raise Conflict("poll_not_open", "Deze peiling is nog niet geopend.")
    if voter is None or not voter.is_member:
        raise DomainError("login_required", "Meld je aan om een uitslag te voorspellen.", 401)
    if state is PollState.CLOSED:
        raise Conflict("poll_closed", "De wedstrijd is begonnen: voorspellen kan niet meer.")
    home_goals, away_goals = parse_goals(home, away)
    ballot_id = session.execute(
        stmts["insert_ballot"],
        {
            "poll_id": poll_id,
            "voter_key": voter.key,
            "user_id": voter.user_id,
            "ip_hash": ip_hash,
            "created_at": now,
            "is_suspicious": False,
            "suspicion": None,
        },
    ).scalar()
    if ballot_id is None:
        found = _existing(session, poll_id, voter.key)
        if found is None:
            raise Conflict("vote_conflict", "Je stem kon niet verwerkt worden. Probeer opnieuw.")
        return found
    session.add(ScorePrediction(ballot_id=ballot_id, home_goals=home_goals, away_goals=away_goals))
    session.execute(stmts["poll_counter"], {"poll_id": poll_id})
    session.execute(stmts["article_counter"], {"article_id": poll.article_id})
    session.flush()
    record_on_commit(session, "votes")
    return PredictionOutcome(ballot_id, now, True, home_goals, away_goals, None)


def own_prediction(session: Session, ballot_id: int) -> ScorePrediction | None:
    return session.get(ScorePrediction, ballot_id)


# ---------------------------------------------------------------- resolving


@dataclass(frozen=True)
class Resolution:
    poll: Poll
    scored: int  # predictions scored (every prediction of the poll)
    corrected: bool  # a result was there before


def resolve(
    session: Session,
    poll_id: int,
    home: object,
    away: object,
    actor: User | None,
    now: datetime,
    exact_points: int,
    outcome_points: int,
) -> Resolution:
    """Enter (or correct) the final score after kick-off and score every prediction of the
    poll in one UPDATE, in the caller's transaction (audited as `resolve_prediction`)."""
    home_goals, away_goals = parse_goals(home, away, code="invalid_result")
    start_write(session)
    poll = _load_poll(session, poll_id, lock=True)
    if poll.kind is not PollKind.SCORE_PREDICTION:
        raise Conflict("not_a_prediction_poll", "In deze peiling voorspel je geen uitslag.")
    if poll.closes_at is None or now < poll.closes_at:
        raise Conflict(
            "match_not_started", "De uitslag kan pas na de aftrap ingevuld worden."
        )
    corrected = poll.resolved_at is not None
    before = (
        f"{poll.result_home_goals}-{poll.result_away_goals}" if corrected else None
    )
    poll.result_home_goals, poll.result_away_goals = home_goals, away_goals
    poll.resolved_at = now
    poll.exact_points, poll.outcome_points = exact_points, outcome_points
    sp = ScorePrediction.__table__.c
    result_outcome = outcome(home_goals, away_goals)
    predicted_outcome = case(
        (sp.home_goals > sp.away_goals, 1), (sp.home_goals < sp.away_goals, -1), else_=0
    )
    points = case(
        (and_(sp.home_goals == home_goals, sp.away_goals == away_goals), exact_points),
        (predicted_outcome == result_outcome, outcome_points),
        else_=0,
    )
    ballots = select(Ballot.id).where(Ballot.poll_id == poll.id).scalar_subquery()
    # An UPDATE's result is a CursorResult (rowcount); Session.execute is typed Result.
    scored = cast(
        "CursorResult[Any]",
        session.execute(
            update(ScorePrediction.__table__)
            .where(sp.ballot_id.in_(ballots))
            .values(points=points)
            .execution_options(synchronize_session=False)
        ),
    ).rowcount
    record_action(
        session,
        actor,
        "poll",
        poll.id,
        "resolve_prediction",
        from_state=before,
        to_state=f"{home_goals}-{away_goals}",
        note=f"{poll.home_team} - {poll.away_team}",
    )
    session.flush()
    return Resolution(poll, int(scored or 0), corrected)


# ---------------------------------------------------------------- leaderboard


@dataclass(frozen=True)
class Standing:
    rank: int
    user_id: int
    name: str
    points: int
    predictions: int  # scored predictions
    exact: int


@dataclass(frozen=True)
class Leaderboard:
    competition: str
    standings: list[Standing]  # everyone, in order

    def top(self, n: int = LEADERBOARD_TOP) -> list[Standing]:
        return self.standings[:n]

    def of(self, user_id: int | None) -> Standing | None:
        return next((s for s in self.standings if s.user_id == user_id), None)


def _counted() -> tuple[Any, ...]:
    return (
        Ballot.user_id.is_not(None),
        Ballot.quarantined_at.is_(None),
        ScorePrediction.points.is_not(None),
    )


def leaderboard(session: Session, competition: str) -> Leaderboard:
    """Members by points, then exact scores, then fewer predictions; equal on all three share a
    rank (1, 2, 2, 4); the shared ones are listed by name. One aggregate query."""
    exact = func.sum(
        case(
            (
                and_(
                    ScorePrediction.home_goals == Poll.result_home_goals,
                    ScorePrediction.away_goals == Poll.result_away_goals,
                ),
                1,
            ),
            else_=0,
        )
    ).cast(Integer)
    points = func.sum(ScorePrediction.points).cast(Integer)
    count = func.count(ScorePrediction.ballot_id)
    rows = session.execute(
        select(Ballot.user_id, User.username, points, count, exact)
        .select_from(ScorePrediction)
        .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
        .join(Poll, Poll.id == Ballot.poll_id)
        .join(User, User.id == Ballot.user_id)
        .where(
            Poll.kind == PollKind.SCORE_PREDICTION,
            Poll.competition == competition,
            *_counted(),
        )
        .group_by(Ballot.user_id, User.username)
        .order_by(points.desc(), exact.desc(), count.asc(), User.username, Ballot.user_id)
    ).all()
    standings: list[Standing] = []
    previous: tuple[int, int, int] | None = None
    rank = 0
    for i, (user_id, name, pts, n, ex) in enumerate(rows, start=1):
        key = (int(pts or 0), int(ex or 0), int(n))
        if key != previous:
            rank, previous = i, key
        standings.append(Standing(rank, user_id, name, key[0], key[2], key[1]))
    return Leaderboard(competition, standings)


def competitions(session: Session) -> list[str]:
    """The competitions of prediction polls, by name."""
    return list(
        session.scalars(
            select(Poll.competition)
            .where(Poll.kind == PollKind.SCORE_PREDICTION, Poll.competition.is_not(None))
            .distinct()
            .order_by(Poll.competition)
        )
    )


@dataclass(frozen=True)
class HistoryItem:
    poll_id: int
    competition: str | None
    home_team: str | None
    away_team: str | None
    kickoff: datetime | None
    home_goals: int
    away_goals: int
    result_home_goals: int | None
    result_away_goals: int | None
    points: int | None
    quarantined: bool


def history(session: Session, user_id: int) -> list[HistoryItem]:
    """A member's predictions, the latest kick-off first, with their points (None: not yet
    resolved)."""
    rows = session.execute(
        select(Poll, ScorePrediction, Ballot.quarantined_at)
        .join(Ballot, Ballot.poll_id == Poll.id)
        .join(ScorePrediction, ScorePrediction.ballot_id == Ballot.id)
        .where(Ballot.user_id == user_id, Poll.kind == PollKind.SCORE_PREDICTION)
        .order_by(Poll.closes_at.desc(), Poll.id.desc())
    ).all()
    return [
        HistoryItem(
            poll.id,
            poll.competition,
            poll.home_team,
            poll.away_team,
            poll.closes_at,
            pred.home_goals,
            pred.away_goals,
            poll.result_home_goals,
            poll.result_away_goals,
            pred.points,
            quarantined is not None,
        )
        for poll, pred, quarantined in rows
    ]


def recount_points(session: Session) -> list[tuple[str, str, int | None, int | None]]:
    """Rescore the predictions of resolved polls from their results and the points they were
    scored with; unresolved polls' predictions have no points. (counter, ballot id, stored,
    actual) per fixed row."""
    drifts: list[tuple[str, str, int | None, int | None]] = []
    rows = session.execute(
        select(ScorePrediction, Poll)
        .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
        .join(Poll, Poll.id == Ballot.poll_id)
        .order_by(ScorePrediction.ballot_id)
    ).all()
    for prediction, poll in rows:
        wanted = None
        if (
            poll.resolved_at is not None
            and poll.result_home_goals is not None
            and poll.result_away_goals is not None
        ):
            wanted = points_for(
                (prediction.home_goals, prediction.away_goals),
                (poll.result_home_goals, poll.result_away_goals),
                poll.exact_points or 0,
                poll.outcome_points or 0,
            )
        if prediction.points != wanted:
            drifts.append(
                ("score_predictions.points", str(prediction.ballot_id), prediction.points, wanted)
            )
            prediction.points = wanted
    return drifts
