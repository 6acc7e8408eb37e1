"""Player ratings: a poll kind whose "vote" is a fan's rating set for a line-up.

The line-up (players with a shirt number, starter or substitute, and an optional coach) is
entered with the poll. A fan rates each player 1–10 (each rating optional, at least one); the
rating set is one ballot under the choice polls' one-ballot rules (the ballots' unique
(poll_id, voter_key), voter tokens, the per-IP allowance, burst marks, quarantine), and its
scores are rows of player_ratings. Per player, the counters (rating_count, rating_sum and how
many of each score) count the ratings of ballots not in quarantine; they change in the rating
set's transaction, in polls.quarantine on quarantine and release, and `tribune recount`
rebuilds them.

Counters change last in the transaction in the fixed order of polls.quarantine: players (one
UPDATE, ascending ids), the poll, the article.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, text, update
from sqlalchemy.orm import Session

from db import start_write
from errors import Conflict, DomainError, Invalid, NotFound
from models import (
    Article,
    Ballot,
    PlayerRating,
    PlayerRole,
    Poll,
    PollKind,
    PollPlayer,
    VoterScope,
)
from models.poll import SCORES
from ops.metrics import record_on_commit
from parsing import is_id
from polls.states import PollState, poll_state
from writes.votes import OptionSnapshot, VoteContext, Voter

MAX_PLAYERS = 30  # a squad: 11 starters and the substitutes; the coach comes on top
NAME_MAX = 80
SHIRT_MIN, SHIRT_MAX = 1, 99
SCORE_MIN, SCORE_MAX = 1, 10
_HOUR = timedelta(hours=1)
SCORE_COLUMNS = tuple(f"score_{score}" for score in SCORES)


# ---------------------------------------------------------------- the line-up


@dataclass
class PlayerDraft:
    name: str
    shirt_number: int | None
    role: PlayerRole


@dataclass(frozen=True)
class LineupProblem:
    code: str
    field: str  # "players.3.name", "coach", "players"
    message: str


def _lineup_problems(players: object, coach: object) -> tuple[list[PlayerDraft], list]:
    """The normalised line-up (coach last) and what is wrong with it."""
    problems: list[LineupProblem] = []
    drafts: list[PlayerDraft] = []
    if not isinstance(players, list) or not players:
        problems.append(
            LineupProblem("lineup_empty", "players", "Geef minstens één speler op.")
        )
        players = []
    elif len(players) > MAX_PLAYERS:
        problems.append(
            LineupProblem(
                "too_many_players",
                "players",
                f"Een opstelling telt hoogstens {MAX_PLAYERS} spelers.",
            )
        )
    seen: dict[int, int] = {}
    for i, raw in enumerate(players):
        where = f"players.{i}"
        item = raw if isinstance(raw, Mapping) else {}
        name = " ".join(str(item.get("name") or "").split())
        number = item.get("shirt_number")
        role = item.get("role", PlayerRole.STARTER.value)
        if not name:
            problems.append(
                LineupProblem("empty_player_name", f"{where}.name", "Vul de naam van de speler in.")
            )
        elif len(name) > NAME_MAX:
            problems.append(
                LineupProblem(
                    "player_name_too_long",
                    f"{where}.name",
                    f"Een naam heeft hoogstens {NAME_MAX} tekens.",
                )
            )
        if not isinstance(number, int) or not is_id(number) or not SHIRT_MIN <= number <= SHIRT_MAX:
            problems.append(
                LineupProblem(
                    "invalid_shirt_number",
                    f"{where}.shirt_number",
                    f"Een rugnummer ligt tussen {SHIRT_MIN} en {SHIRT_MAX}.",
                )
            )
            number = None
        elif number in seen:
            problems.append(
                LineupProblem(
                    "duplicate_shirt_number",
                    f"{where}.shirt_number",
                    f"Rugnummer {number} staat al bij speler {seen[number] + 1}.",
                )
            )
        else:
            seen[number] = i
        if isinstance(role, PlayerRole):
            role = role.value
        if role not in (PlayerRole.STARTER.value, PlayerRole.SUBSTITUTE.value):
            problems.append(
                LineupProblem(
                    "invalid_player_role",
                    f"{where}.role",
                    "Kies basisspeler of wisselspeler.",
                )
            )
            role = PlayerRole.STARTER.value
        drafts.append(PlayerDraft(name, number, PlayerRole(role)))
    if coach is not None:
        coach_name = " ".join(str(coach).split()) if isinstance(coach, str) else ""
        if not coach_name:
            problems.append(
                LineupProblem("empty_player_name", "coach", "Vul de naam van de trainer in.")
            )
        elif len(coach_name) > NAME_MAX:
            problems.append(
                LineupProblem(
                    "player_name_too_long", "coach", f"Een naam heeft hoogstens {NAME_MAX} tekens."
                )
            )
        drafts.append(PlayerDraft(coach_name, None, PlayerRole.COACH))
    return drafts, problems


def validate_lineup(players: object, coach: object = None) -> list[PlayerDraft]:
    """The line-up (coach last), or 422 with the first problem's code and every field's message
    in details.fields (details.codes: every code, in order)."""
    drafts, problems = _lineup_problems(players, coach)
    if problems:
        first = problems[0]
        fields: dict[str, str] = {}
        for problem in problems:
            fields.setdefault(problem.field, problem.message)
        raise Invalid(
            first.code,
            first.message,
            details={"fields": fields, "codes": [p.code for p in problems]},
        )
    return drafts


def lineup_rows(drafts: Iterable[PlayerDraft]) -> list[PollPlayer]:
    return [
        PollPlayer(
            position=i,
            name=d.name,
            shirt_number=d.shirt_number,
            role=d.role,
            rating_count=0,
            rating_sum=0,
            **{column: 0 for column in SCORE_COLUMNS},
        )
        for i, d in enumerate(drafts)
    ]


# ---------------------------------------------------------------- counters


# Per player: {score: change in the number of ratings with that score}.
Deltas = dict[int, dict[int, int]]


def _counters_update() -> Any:
    """UPDATE one player's counters by `n` ratings of `score` (one statement, executemany)."""
    player = PollPlayer.__table__.c
    score: Any = bindparam("score")
    n: Any = bindparam("n")
    values: dict[str, Any] = {
        "rating_count": player.rating_count + n,
        "rating_sum": player.rating_sum + bindparam("total"),
    }
    for value, column in zip(SCORES, SCORE_COLUMNS, strict=True):
        values[column] = player[column] + case((score == value, n), else_=0)
    return update(PollPlayer.__table__).where(player.id == bindparam("player")).values(**values)


_UPDATE_COUNTERS = _counters_update()


def shift_player_counters(session: Session, deltas: Deltas) -> None:
    """Add to the players' counters: one prebuilt UPDATE run as an executemany, in ascending
    player id order (the counter order of polls.quarantine)."""
    params = [
        {"player": pid, "score": score, "n": n, "total": score * n}
        for pid in sorted(deltas)
        for score, n in sorted(deltas[pid].items())
        if n
    ]
    if params:
        session.execute(_UPDATE_COUNTERS, params)


def rating_deltas(session: Session, ballot_ids: Iterable[int], sign: int) -> Deltas:
    """The counters' change when these ballots' ratings leave (-1) or enter (+1) the count."""
    ids = list(ballot_ids)
    deltas: Deltas = defaultdict(lambda: defaultdict(int))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for player_id, score, count in session.execute(
            select(PlayerRating.player_id, PlayerRating.score, func.count())
            .where(PlayerRating.ballot_id.in_(chunk))
            .group_by(PlayerRating.player_id, PlayerRating.score)
        ):
            deltas[player_id][score] += sign * count
    return {pid: dict(scores) for pid, scores in deltas.items()}


# ---------------------------------------------------------------- rating


def parse_ratings(raw: object) -> dict[int, int]:
    """{player id: score} from [{"player_id", "score"}, …] (or a {"<id>": score} object):
    at least one, each player once, scores 1–10; else 422 invalid_ratings."""
    message = "Geef minstens één speler een cijfer van 1 tot 10 (elke speler één keer)."
    pairs: list[tuple[object, object]] = []
    if isinstance(raw, list):
        for item in raw:
            if not isinstance(item, Mapping):
                raise Invalid("invalid_ratings", message)
            pairs.append((item.get("player_id"), item.get("score")))
    elif isinstance(raw, Mapping):
        for key, value in raw.items():
            pairs.append((int(key) if isinstance(key, str) and key.isdigit() else key, value))
    else:
        raise Invalid("invalid_ratings", message)
    ratings: dict[int, int] = {}
    for player_id, score in pairs:
        if (
            not isinstance(player_id, int)
            or not isinstance(score, int)
            or not is_id(player_id)
            or not is_id(score)
            or not SCORE_MIN <= score <= SCORE_MAX
            or player_id in ratings
        ):
            raise Invalid("invalid_ratings", message)
        ratings[player_id] = score
    if not ratings:
        raise Invalid("invalid_ratings", message)
    return ratings


FORM_PREFIX = "score-"


def form_scores(items: Iterable[tuple[str, str]]) -> dict[int, int]:
    """{player id: score} from a plain form's `score-<player id>` fields (empty: not rated);
    anything else in such a field is 422 invalid_ratings."""
    scores: dict[int, int] = {}
    for name, value in items:
        if not name.startswith(FORM_PREFIX) or not value:
            continue
        player, score = name[len(FORM_PREFIX) :], value.strip()
        if not (player.isdigit() and score.isdigit()):
            raise Invalid("invalid_ratings", "Kies per speler een cijfer van 1 tot 10.")
        scores[int(player)] = int(score)
    return scores


@dataclass(frozen=True)
class PlayerSnapshot:
    """A player as the rating set left it (its counters include this set)."""

    id: int
    name: str
    shirt_number: int | None
    role: PlayerRole
    rating_count: int
    rating_sum: int
    distribution: tuple[int, ...]


@dataclass(frozen=True)
class RatingsPollSnapshot:
    """The ratings poll as the rating set read and wrote it: what the answer needs, without ORM
    objects (duck-types what poll_state, results_visible, poll_results and rating_results
    read)."""

    id: int
    article_id: int
    article_cms_id: str | None
    question: str
    kind: PollKind
    max_choices: int
    opens_at: datetime | None
    closes_at: datetime | None
    results_visibility: Any
    voter_scope: VoterScope
    ballot_count: int
    players: tuple[PlayerSnapshot, ...]
    options: tuple[OptionSnapshot, ...] = ()
    is_ratings: bool = True


@dataclass(frozen=True)
class RatingOutcome:
    ballot_id: int
    created_at: datetime
    created: bool
    ratings: dict[int, int] = field(default_factory=dict)  # player id -> score
    poll: RatingsPollSnapshot | None = None


_POLL_COLUMNS = (
    "id",
    "article_id",
    "question",
    "kind",
    "max_choices",
    "opens_at",
    "closes_at",
    "results_visibility",
    "voter_scope",
    "ballot_count",
)
_PLAYER_COLUMNS = ("id", "name", "shirt_number", "role", "rating_count", "rating_sum")
_STATEMENTS: dict[str, dict[str, Any]] = {}


def _statements(dialect: str) -> dict[str, Any]:
    """The rating set's statements, built once per dialect and bound by parameters."""
    built = _STATEMENTS.get(dialect)
    if built is not None:
        return built
    polls_t, players_t = Poll.__table__, PollPlayer.__table__
    ballots_t, articles_t = Ballot.__table__, Article.__table__
    player_columns = [players_t.c[name] for name in (*_PLAYER_COLUMNS, *SCORE_COLUMNS)]
    # The poll and its players in one statement; FOR KEY SHARE OF polls on PostgreSQL: rating
    # sets run side by side but wait for an editor's pending change (SQLite: the write lock).
    load = (
        select(*[polls_t.c[name] for name in _POLL_COLUMNS], *player_columns)
        .select_from(polls_t.outerjoin(players_t, players_t.c.poll_id == polls_t.c.id))
        .where(polls_t.c.id == bindparam("poll_id"))
        .order_by(players_t.c.position)
        .with_for_update(read=True, key_share=True, of=polls_t)
    )
    allowance = (
        select(func.count())
        .select_from(ballots_t)
        .where(
            ballots_t.c.poll_id == bindparam("poll_id"),
            ballots_t.c.ip_hash == bindparam("ip_hash"),
            ballots_t.c.created_at >= bindparam("since", type_=ballots_t.c.created_at.type),
        )
    )
    # A text() statement: the dialects' on_conflict_do_nothing() has no cache key and would
    # be compiled on every rating set (as bench/vote_bench.md found for votes).
    insert_ballot = (
        text(
            "INSERT INTO ballots (poll_id, voter_key, user_id, ip_hash, created_at,"
            " is_suspicious, suspicion) VALUES (:poll_id, :voter_key, :user_id, :ip_hash,"
            " :created_at, :is_suspicious, :suspicion)"
            " ON CONFLICT (poll_id, voter_key) DO NOTHING RETURNING id"
        )
        .bindparams(
            bindparam("created_at", type_=ballots_t.c.created_at.type),
            bindparam("is_suspicious", type_=ballots_t.c.is_suspicious.type),
        )
        .columns(ballots_t.c.id)
    )
    players = (
        select(*player_columns)
        .where(players_t.c.poll_id == bindparam("poll_id"))
        .order_by(players_t.c.position)
    )
    poll_counter = (
        update(polls_t)
        .where(polls_t.c.id == bindparam("poll_id"))
        .values(ballot_count=polls_t.c.ballot_count + 1)
        .returning(polls_t.c.ballot_count)
    )
    article_counter = (
        update(articles_t)
        .where(articles_t.c.id == bindparam("article_id"))
        .values(vote_count=articles_t.c.vote_count + 1)
        .returning(articles_t.c.cms_id)
    )
    built = {
        "load": load,
        "allowance": allowance,
        "insert_ballot": insert_ballot,
        "players": players,
        "poll_counter": poll_counter,
        "article_counter": article_counter,
    }
    _STATEMENTS[dialect] = built
    return built


def _player(row: Any) -> PlayerSnapshot:
    return PlayerSnapshot(
        row.id,
        row.name,
        row.shirt_number,
        row.role,
        row.rating_count,
        row.rating_sum,
        tuple(getattr(row, column) for column in SCORE_COLUMNS),
    )


def _existing(session: Session, poll_id: int, voter_key: str) -> RatingOutcome | None:
    rows = session.execute(
        select(Ballot.id, Ballot.created_at, PlayerRating.player_id, PlayerRating.score)
        .outerjoin(PlayerRating, PlayerRating.ballot_id == Ballot.id)
        .where(Ballot.poll_id == poll_id, Ballot.voter_key == voter_key)
    ).all()
    if not rows:
        return None
    ratings = {r.player_id: r.score for r in rows if r.player_id is not None}
    return RatingOutcome(rows[0].id, rows[0].created_at, False, dict(sorted(ratings.items())))


_INSERT_RATINGS = insert(PlayerRating.__table__).values(
    ballot_id=bindparam("b"), player_id=bindparam("p"), score=bindparam("s")
)


def cast_ratings(
    session: Session,
    poll_id: int,
    raw_ratings: object,
    voter: Voter,
    context: VoteContext,
    now: datetime,
) -> RatingOutcome:
    """One rating set per voter per poll: created, or the existing set back.

    In the write transaction (BEGIN IMMEDIATE on SQLite; FOR KEY SHARE of the poll on
    PostgreSQL), with statements built once per dialect: the poll with its players in one read;
    the kind, schedule, scope, state and players checked in docs/design.md's order; the per-IP
    allowance count (when on); the ballot (INSERT … ON CONFLICT DO NOTHING on the one-ballot
    constraint: a repeat voter gets their set back); its ratings (one executemany); the
    players' counters (one UPDATE, executemany); the poll's and the article's counters
    (RETURNING what the answer needs) and the players as the set left them: eight statements
    for a new set, and the answer needs no read after the commit (`outcome.poll`).
    """
    from polls.voting import SUSPICION_BURST, SUSPICION_IP  # polls.voting imports polls.*

    stmts = _statements(session.get_bind().dialect.name)
    start_write(session)
    rows = session.execute(stmts["load"], {"poll_id": poll_id}).all()
    if not rows:
        raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
    row = rows[0]
    if row.kind is not PollKind.PLAYER_RATINGS:
        raise Conflict("not_a_ratings_poll", "In deze peiling geef je geen spelerscijfers.")
    state = poll_state(row, now)
    if state is PollState.SCHEDULED:
        if not context.editor:
            raise NotFound("poll_not_found", "Deze peiling bestaat niet.")
        raise Conflict("poll_not_open", "Deze peiling is nog niet geopend.")
    if row.voter_scope is VoterScope.LOGGED_IN and not voter.is_member:
        raise DomainError("login_required", "Meld je aan om te stemmen in deze peiling.", 401)
    if state is PollState.CLOSED:
        raise Conflict("poll_closed", "Deze peiling is gesloten.")
    ratings = parse_ratings(raw_ratings)
    known = {r[len(_POLL_COLUMNS)] for r in rows if r[len(_POLL_COLUMNS)] is not None}
    if not set(ratings) <= known:
        raise Invalid(
            "invalid_ratings",
            "Eén of meer spelers horen niet bij deze opstelling.",
            details={"unknown": sorted(set(ratings) - known)},
        )
    # The one-ballot constraint finds a repeat voter (ON CONFLICT DO NOTHING below); the
    # allowance count may then include the voter's own earlier ballot, which is not written.
    suspicion = None
    if context.ip_hash and context.ip_allowance > 0:
        recent = session.execute(
            stmts["allowance"],
            {"poll_id": poll_id, "ip_hash": context.ip_hash, "since": now - _HOUR},
        ).scalar()
        if (recent or 0) >= context.ip_allowance:
            suspicion = SUSPICION_IP
    if suspicion is None and context.burst and not voter.is_member:
        suspicion = SUSPICION_BURST
    ballot_id = session.execute(
        stmts["insert_ballot"],
        {
            "poll_id": poll_id,
            "voter_key": voter.key,
            "user_id": voter.user_id,
            "ip_hash": context.ip_hash,
            "created_at": now,
            "is_suspicious": suspicion is not None,
            "suspicion": suspicion,
        },
    ).scalar()
    if ballot_id is None:  # the voter has a rating set (or another request of theirs won)
        found = _existing(session, poll_id, voter.key)
        if found is None:
            raise Conflict("vote_conflict", "Je stem kon niet verwerkt worden. Probeer opnieuw.")
        return found
    ordered = dict(sorted(ratings.items()))
    session.execute(
        _INSERT_RATINGS, [{"b": ballot_id, "p": pid, "s": score} for pid, score in ordered.items()]
    )
    shift_player_counters(session, {pid: {score: 1} for pid, score in ordered.items()})
    ballots = session.execute(stmts["poll_counter"], {"poll_id": poll_id}).scalar()
    cms_id = session.execute(stmts["article_counter"], {"article_id": row.article_id}).scalar()
    players = tuple(
        _player(p) for p in session.execute(stmts["players"], {"poll_id": poll_id})
    )
    record_on_commit(session, "votes")
    snapshot = RatingsPollSnapshot(
        row.id,
        row.article_id,
        cms_id,
        row.question,
        row.kind,
        row.max_choices,
        row.opens_at,
        row.closes_at,
        row.results_visibility,
        row.voter_scope,
        int(ballots or 0),
        players,
    )
    return RatingOutcome(ballot_id, now, True, ordered, snapshot)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class PlayerResult:
    player_id: int
    name: str
    shirt_number: int | None
    role: PlayerRole
    count: int
    total: int  # the sum of the scores
    distribution: tuple[int, ...]  # ratings of 1, 2, … 10

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.count else None


@dataclass(frozen=True)
class RatingResults:
    """Counted rating sets (ballots not in quarantine); `members_only`: logged-in fans only."""

    ballots: int
    players: list[PlayerResult]
    motm_id: int | None  # "man van de match"
    min_ratings: int
    members_only: bool = False

    @property
    def motm(self) -> PlayerResult | None:
        return next((p for p in self.players if p.player_id == self.motm_id), None)


def man_of_the_match(players: Iterable[PlayerResult], min_ratings: int) -> int | None:
    """The player (not the coach) with the highest average among those with at least
    `min_ratings` ratings; a tie goes to more ratings, then to the first in the line-up."""
    best: tuple[float, int, int] | None = None
    chosen = None
    for position, player in enumerate(players):
        if player.role is PlayerRole.COACH or player.count < max(min_ratings, 1):
            continue
        key = (player.total / player.count, player.count, -position)
        if best is None or key > best:
            best, chosen = key, player.player_id
    return chosen


def rating_results(
    session: Session,
    poll: Poll | RatingsPollSnapshot,
    min_ratings: int,
    members_only: bool = False,
) -> RatingResults:
    """Per player: count, average and distribution, from the counters (everyone) or the rows
    (logged-in fans only); and the man of the match."""
    players: list[PollPlayer | PlayerSnapshot] = list(poll.players)
    if not members_only:
        results = [
            PlayerResult(
                p.id,
                p.name,
                p.shirt_number,
                p.role,
                p.rating_count,
                p.rating_sum,
                tuple(p.distribution),
            )
            for p in players
        ]
        ballots = poll.ballot_count
    else:
        counted = (
            Ballot.poll_id == poll.id,
            Ballot.quarantined_at.is_(None),
            Ballot.user_id.is_not(None),
        )
        per: dict[int, list[int]] = defaultdict(lambda: [0] * len(SCORES))
        for player_id, score, count in session.execute(
            select(PlayerRating.player_id, PlayerRating.score, func.count())
            .join(Ballot, Ballot.id == PlayerRating.ballot_id)
            .where(*counted)
            .group_by(PlayerRating.player_id, PlayerRating.score)
        ):
            per[player_id][score - 1] += count
        results = []
        for p in players:
            dist = per.get(p.id, [0] * len(SCORES))
            results.append(
                PlayerResult(
                    p.id,
                    p.name,
                    p.shirt_number,
                    p.role,
                    sum(dist),
                    sum(score * n for score, n in zip(SCORES, dist, strict=True)),
                    tuple(dist),
                )
            )
        ballots = session.scalar(select(func.count()).select_from(Ballot).where(*counted)) or 0
    return RatingResults(
        ballots, results, man_of_the_match(results, min_ratings), min_ratings, members_only
    )


def true_player_counters(session: Session, poll_ids: Iterable[int] | None = None) -> dict:
    """Per player id, (count, sum, distribution) counted from the rows of counted ballots."""
    stmt = (
        select(PlayerRating.player_id, PlayerRating.score, func.count())
        .join(Ballot, Ballot.id == PlayerRating.ballot_id)
        .where(Ballot.quarantined_at.is_(None))
        .group_by(PlayerRating.player_id, PlayerRating.score)
    )
    if poll_ids is not None:
        stmt = stmt.where(Ballot.poll_id.in_(list(poll_ids)))
    per: dict[int, list[int]] = defaultdict(lambda: [0] * len(SCORES))
    for player_id, score, count in session.execute(stmt):
        per[player_id][score - 1] += count
    return per


def recount_players(session: Session) -> list[tuple[str, str, int, int]]:
    """Rebuild every player's counters from the rows: (counter, player id, stored, actual)."""
    actual = true_player_counters(session)
    drifts: list[tuple[str, str, int, int]] = []
    for player in session.scalars(select(PollPlayer).order_by(PollPlayer.id)):
        dist = actual.get(player.id, [0] * len(SCORES))
        wanted = {
            "rating_count": sum(dist),
            "rating_sum": sum(score * n for score, n in zip(SCORES, dist, strict=True)),
            **{column: dist[i] for i, column in enumerate(SCORE_COLUMNS)},
        }
        for column, value in wanted.items():
            stored = getattr(player, column)
            if stored != value:
                drifts.append((f"poll_players.{column}", str(player.id), stored, value))
                setattr(player, column, value)
    return drifts
