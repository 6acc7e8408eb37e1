"""CSV exports for editors: ';'-separated, UTF-8 with BOM (Belgian Excel), formulas neutralised.

Ballot rows carry the time, the chosen options and the voter type only: no user id, no IP hash,
no voter key (no personal data leaves through an export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from brussels import to_local
from models import Ballot, PlayerRating, PlayerRole, Poll, ScorePrediction
from polls.ratings import rating_results
from polls.results import ballot_stats, poll_results

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUSPICION_NL = {"ip_allowance": "veel stemmen van één IP", "burst": "piek nieuwe stemmers"}


def neutralise(value: object) -> str:
    """A cell Excel will not run as a formula: a leading = + - @ (or tab/CR) gets an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return BOM + buffer.getvalue()


ROLE_NL = {
    PlayerRole.STARTER: "basis",
    PlayerRole.SUBSTITUTE: "wissel",
    PlayerRole.COACH: "trainer",
}


def _average(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")  # Belgian Excel


def ratings_results_csv(session: Session, poll: Poll, motm_min_ratings: int) -> str:
    """A player_ratings poll: per player, the average, count and distribution of all counted
    ratings and of logged-in fans' only; the man of the match."""
    everyone = rating_results(session, poll, motm_min_ratings)
    members = rating_results(session, poll, motm_min_ratings, members_only=True)
    stats = ballot_stats(session, poll)
    rows: list[list[object]] = [
        ["vraag", poll.question],
        [
            "rugnummer",
            "speler",
            "rol",
            "gemiddelde",
            "aantal cijfers",
            *[f"cijfer {score}" for score in range(1, 11)],
            "gemiddelde aangemelde fans",
            "aantal cijfers aangemelde fans",
        ],
    ]
    for player, member in zip(everyone.players, members.players, strict=True):
        rows.append(
            [
                player.shirt_number if player.shirt_number is not None else "",
                player.name,
                ROLE_NL[player.role],
                _average(player.average),
                player.count,
                *player.distribution,
                _average(member.average),
                member.count,
            ]
        )
    motm = everyone.motm
    rows.extend(
        [
            [
                f"man van de match (minstens {motm_min_ratings} cijfers)",
                motm.name if motm else "",
            ],
            ["beoordelingen (geteld)", everyone.ballots, "", members.ballots],
            ["aangemeld", stats.members],
            ["anoniem", stats.anonymous],
            ["verdacht (niet in quarantaine)", stats.suspicious],
            ["in quarantaine", stats.quarantined],
        ]
    )
    return _csv(rows)


def results_csv(session: Session, poll: Poll, motm_min_ratings: int = 10) -> str:
    """The aggregate stand: all votes and logged-in fans only, per option (per player for a
    player_ratings poll)."""
    if poll.is_ratings:
        return ratings_results_csv(session, poll, motm_min_ratings)
    if poll.is_prediction:
        return prediction_results_csv(session, poll)
    everyone = poll_results(session, poll)
    members = poll_results(session, poll, members_only=True)
    stats = ballot_stats(session, poll)
    rows: list[list[object]] = [
        ["vraag", poll.question],
        [
            "antwoord",
            "stemmen",
            "percentage",
            "stemmen aangemelde fans",
            "percentage aangemelde fans",
        ],
    ]
    for option, member in zip(everyone.options, members.options, strict=True):
        rows.append([option.label, option.votes, option.percent, member.votes, member.percent])
    rows.extend(
        [
            ["totaal (getelde stemmen)", everyone.total, "", members.total, ""],
            ["aangemeld", stats.members],
            ["anoniem", stats.anonymous],
            ["verdacht (niet in quarantaine)", stats.suspicious],
            ["in quarantaine", stats.quarantined],
        ]
    )
    return _csv(rows)


def prediction_results_csv(session: Session, poll: Poll) -> str:
    """A score_prediction poll: the match, the result, and per predicted score how many counted
    predictions (not in quarantine) and their points."""
    stats = ballot_stats(session, poll)
    result = (
        f"{poll.result_home_goals} - {poll.result_away_goals}"
        if poll.result_home_goals is not None
        else ""
    )
    rows: list[list[object]] = [
        ["wedstrijd", f"{poll.home_team} - {poll.away_team}"],
        ["competitie", poll.competition],
        ["uitslag", result],
        ["voorspelling", "aantal", "punten per voorspelling"],
    ]
    for home, away, points, count in session.execute(
        select(
            ScorePrediction.home_goals,
            ScorePrediction.away_goals,
            ScorePrediction.points,
            func.count(),
        )
        .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
        .where(Ballot.poll_id == poll.id, Ballot.quarantined_at.is_(None))
        .group_by(ScorePrediction.home_goals, ScorePrediction.away_goals, ScorePrediction.points)
        .order_by(func.count().desc(), ScorePrediction.home_goals, ScorePrediction.away_goals)
    ):
        # "2 - 1", not "2-1": spreadsheets read the latter as a date.
        rows.append([f"{home} - {away}", count, "" if points is None else points])
    rows.extend(
        [
            ["totaal (getelde voorspellingen)", stats.counted],
            ["in quarantaine", stats.quarantined],
        ]
    )
    return _csv(rows)


def _ballot_rows(session: Session, poll: Poll) -> Iterator[list[object]]:
    labels = {o.id: o.label for o in poll.options}
    players = {p.id: p for p in poll.players}
    yield [
        "tijdstip (Brussel)",
        "cijfers" if poll.is_ratings else "voorspelling" if poll.is_prediction else "antwoorden",
        "type stemmer",
        "verdacht",
        "quarantaine",
    ]
    last_id = 0
    while True:  # keyset pages keep memory flat on big polls
        batch = list(
            session.scalars(
                select(Ballot)
                .where(Ballot.poll_id == poll.id, Ballot.id > last_id)
                .options(selectinload(Ballot.choices))
                .order_by(Ballot.id)
                .limit(1000)
            )
        )
        if not batch:
            return
        scores: dict[int, list[str]] = {}
        if poll.is_ratings:
            for ballot_id, player_id, score in session.execute(
                select(PlayerRating.ballot_id, PlayerRating.player_id, PlayerRating.score)
                .where(PlayerRating.ballot_id.in_([b.id for b in batch]))
                .order_by(PlayerRating.ballot_id, PlayerRating.player_id)
            ):
                player = players.get(player_id)
                who = f"{player.shirt_number or ''} {player.name}".strip() if player else "?"
                scores.setdefault(ballot_id, []).append(f"{who}: {score}")
        if poll.is_prediction:
            for prediction in session.scalars(
                select(ScorePrediction).where(
                    ScorePrediction.ballot_id.in_([b.id for b in batch])
                )
            ):
                points = "" if prediction.points is None else f" ({prediction.points} ptn)"
                scores[prediction.ballot_id] = [
                    f"{prediction.home_goals} - {prediction.away_goals}{points}"
                ]
        for ballot in batch:
            chosen = sorted(c.option_id for c in ballot.choices)
            answer = (
                " | ".join(scores.get(ballot.id, []))
                if poll.is_ratings or poll.is_prediction
                else " | ".join(labels.get(i, "?") for i in chosen)
            )
            yield [
                to_local(ballot.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                answer,
                "aangemeld"
                if ballot.user_id is not None or ballot.voter_key.startswith("u:")
                else "anoniem",
                SUSPICION_NL.get(ballot.suspicion or "", "") if ballot.is_suspicious else "",
                "ja" if ballot.quarantined_at else "nee",
            ]
        last_id = batch[-1].id


def ballots_csv(session: Session, poll: Poll) -> str:
    """One row per ballot: time, options (or scores), voter type; no personal data."""
    return _csv(_ballot_rows(session, poll))
