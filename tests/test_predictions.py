"""Score predictions (issue 20, item 5): a poll kind whose vote is a member's predicted score.

Create and validate through the API, predict (members only, before kick-off, once), resolve
(3/1/0, configurable, a corrected result rescores), the leaderboard (order, ties, quarantine,
account deletion), a member's own history, recount of drifted points, the GDPR export, and a
Hypothesis sequence keeping the leaderboard equal to one computed from the rows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import (
    Article,
    Ballot,
    ModerationAction,
    Poll,
    PollKind,
    Role,
    ScorePrediction,
    User,
    VoterScope,
    utcnow,
)
from polls.predictions import leaderboard, points_for, predict, resolve
from polls.services import PollDraft, QuarantineScope, Voter, create_poll, set_quarantine
from privacy.deletion import CommentChoice, delete_account
from tallies.recount import recount
from tests.conftest import TEST_PASSWORD, login
from tests.polls_fixtures import SAME_ORIGIN, error_code, make_poll_fixture  # noqa: F401

COMPETITION = "Jupiler Pro League 2026-27"


def match_poll_body(**change: Any) -> dict[str, Any]:
    return {
        "question": "Club Brugge - Anderlecht: jouw voorspelling?",
        "kind": "score_prediction",
        "home_team": "Club Brugge",
        "away_team": "Anderlecht",
        "competition": COMPETITION,
        "closes_at": (utcnow() + timedelta(days=1)).isoformat(),
        **change,
    }


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]


@pytest.fixture
def editor_headers(db: Session, make_user: Callable[..., User]) -> dict[str, str]:
    from accounts.services import create_api_token, token_scopes_for

    _, token = create_api_token(db, make_user(Role.EDITOR), "test", token_scopes_for(Role.EDITOR))
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def match_poll(
    db: Session,
    article: Article,
    competition: str = COMPETITION,
    home: str = "Club Brugge",
    away: str = "Anderlecht",
) -> Poll:
    draft = PollDraft(
        question=f"{home} - {away}",
        options=[],
        kind=PollKind.SCORE_PREDICTION,
        home_team=home,
        away_team=away,
        competition=competition,
        closes_at=utcnow() + timedelta(days=1),
    )
    poll = create_poll(db, article, draft, None, utcnow())
    db.commit()
    return poll


def kick_off(db: Session, poll: Poll) -> None:
    """The match started: the poll's closes_at lies in the past."""
    db.rollback()  # no stale snapshot (SQLite: a read before the app's writes locks this write)
    db.execute(
        update(Poll).where(Poll.id == poll.id).values(closes_at=utcnow() - timedelta(minutes=1))
    )
    db.commit()


def post_prediction(client: FlaskClient, poll_id: int, home: Any, away: Any) -> Any:
    return client.post(
        f"/api/v1/polls/{poll_id}/predictions",
        json={"home_goals": home, "away_goals": away},
        headers=SAME_ORIGIN,
    )


def member_client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def service_predict(session: Session, poll_id: int, user_id: int, home: int, away: int) -> None:
    predict(session, poll_id, home, away, Voter(f"u:{user_id}", user_id), utcnow())


# ---------------------------------------------------------------- create and validate


def test_editor_creates_a_prediction_poll(
    client: FlaskClient, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls",
        json=match_poll_body(home_team="  Club   Brugge "),
        headers=editor_headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "score_prediction"
    assert body["options"] == [] and body["players"] == []
    assert body["voter_scope"] == "logged_in"  # only members predict
    match = body["match"]
    assert (match["home_team"], match["away_team"], match["competition"]) == (
        "Club Brugge",
        "Anderlecht",
        COMPETITION,
    )
    assert match["kickoff"] == body["closes_at"]
    assert match["result"] is None and match["predictions"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"home_team": "  "}, "home_team"),
        ({"away_team": None}, "away_team"),
        ({"away_team": "club brugge"}, "away_team"),
        ({"home_team": "x" * 61}, "home_team"),
        ({"competition": ""}, "competition"),
        ({"competition": "c" * 61}, "competition"),
        ({"closes_at": None}, "closes_at"),
        ({"options": ["Ja", "Nee"]}, "options"),
    ],
)
def test_prediction_poll_errors_name_the_field(
    client: FlaskClient,
    make_article: Callable[..., Article],
    editor_headers: dict,
    change: dict,
    field: str,
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls",
        json=match_poll_body(**change),
        headers=editor_headers,
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"]["fields"]


def test_a_choice_poll_has_no_match(
    client: FlaskClient, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls",
        json={"question": "Ja of nee?", "options": ["Ja", "Nee"], "home_team": "Club Brugge"},
        headers=editor_headers,
    )
    assert response.status_code == 422
    assert "home_team" in response.get_json()["error"]["details"]["fields"]


# ---------------------------------------------------------------- predicting


def test_a_member_predicts_once_and_gets_the_same_prediction_back(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = match_poll(db, make_article())
    fan = make_user()
    client = member_client(app, fan)
    first = post_prediction(client, poll.id, 2, 1)
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["counted"] is True
    assert body["ballot"]["prediction"] == {"home_goals": 2, "away_goals": 1, "points": None}
    assert body["poll"]["match"]["predictions"] == 1
    again = post_prediction(client, poll.id, 0, 0)
    assert again.status_code == 200
    assert again.get_json()["counted"] is False
    assert again.get_json()["ballot"]["prediction"]["home_goals"] == 2
    db.expire_all()
    assert db.scalars(select(ScorePrediction.home_goals)).all() == [2]
    assert db.get(Poll, poll.id).ballot_count == 1
    # GET shows the member's own prediction.
    own = client.get(f"/api/v1/polls/{poll.id}").get_json()["own_ballot"]
    assert own["prediction"] == {"home_goals": 2, "away_goals": 1, "points": None}


def test_anonymous_fans_cannot_predict(
    client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = match_poll(db, make_article())
    response = post_prediction(client, poll.id, 1, 1)
    assert response.status_code == 401
    assert error_code(response) == "login_required"
    assert db.scalars(select(Ballot)).all() == []


@pytest.mark.parametrize(
    ("home", "away"), [(-1, 0), (21, 0), (0, 21), ("twee", 1), (None, 1), (1.5, 1), (True, 0)]
)
def test_bad_predictions_are_refused(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user, home, away
) -> None:
    poll = match_poll(db, make_article())
    client = member_client(app, make_user())
    response = post_prediction(client, poll.id, home, away)
    assert response.status_code == 422
    assert error_code(response) == "invalid_prediction"


def test_no_prediction_after_kick_off_and_not_on_other_kinds(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user, make_poll
) -> None:
    poll = match_poll(db, make_article())
    choice = make_poll()
    kick_off(db, poll)
    client = member_client(app, make_user())
    closed = post_prediction(client, poll.id, 1, 0)
    assert closed.status_code == 409 and error_code(closed) == "poll_closed"
    other = post_prediction(client, choice.id, 1, 0)
    assert other.status_code == 409 and error_code(other) == "not_a_prediction_poll"
    missing = post_prediction(client, 999999, 1, 0)
    assert missing.status_code == 404


# ---------------------------------------------------------------- resolving


def test_the_result_scores_every_prediction_and_a_correction_rescores(
    app: Flask,
    db: Session,
    make_article: Callable[..., Article],
    make_user,
    editor_headers: dict,
) -> None:
    poll = match_poll(db, make_article())
    fans = [make_user() for _ in range(4)]
    for fan, (home, away) in zip(fans, [(2, 1), (3, 1), (1, 1), (0, 2)], strict=True):
        assert post_prediction(member_client(app, fan), poll.id, home, away).status_code == 201
    client = app.test_client()
    early = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 2, "away_goals": 1},
        headers=editor_headers,
    )
    assert early.status_code == 409 and error_code(early) == "match_not_started"
    kick_off(db, poll)
    response = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 2, "away_goals": 1},
        headers=editor_headers,
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["scored"] == 4 and body["corrected"] is False
    assert body["poll"]["match"]["result"] == {"home_goals": 2, "away_goals": 1}

    def points() -> list[int | None]:
        db.rollback()  # a fresh snapshot: the app wrote since
        return [
            db.scalar(
                select(ScorePrediction.points)
                .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
                .where(Ballot.user_id == fan.id)
            )
            for fan in fans
        ]

    assert points() == [3, 1, 0, 0]  # exact, right outcome, draw, away win
    corrected = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 1, "away_goals": 1},
        headers=editor_headers,
    )
    assert corrected.status_code == 200 and corrected.get_json()["corrected"] is True
    assert points() == [0, 0, 3, 0]
    # Entering the same result again changes nothing.
    again = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 1, "away_goals": 1},
        headers=editor_headers,
    )
    assert again.status_code == 200
    assert points() == [0, 0, 3, 0]
    audit = db.scalars(
        select(ModerationAction).where(ModerationAction.action == "resolve_prediction")
    ).all()
    assert [(a.from_state, a.to_state) for a in audit] == [
        (None, "2-1"),
        ("2-1", "1-1"),
        ("1-1", "1-1"),
    ]


def test_a_resolved_match_cannot_be_reopened_nor_its_kick_off_moved(
    app: Flask, db: Session, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    poll = match_poll(db, make_article())
    kick_off(db, poll)
    client = app.test_client()
    later = (utcnow() + timedelta(hours=2)).isoformat()
    # Before the result, an editor may still reopen (a postponed match).
    reopened = client.patch(
        f"/api/v1/polls/{poll.id}", json={"state": "open", "closes_at": later},
        headers=editor_headers,
    )
    assert reopened.status_code == 200, reopened.get_json()
    kick_off(db, poll)
    resolved = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 2, "away_goals": 0},
        headers=editor_headers,
    )
    assert resolved.status_code == 200
    for body in ({"state": "open", "closes_at": later}, {"closes_at": later}):
        refused = client.patch(f"/api/v1/polls/{poll.id}", json=body, headers=editor_headers)
        assert (refused.status_code, error_code(refused)) == (409, "match_resolved"), body
    db.rollback()
    assert db.get(Poll, poll.id).closes_at <= utcnow()


def test_points_are_configurable(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user, editor_headers
) -> None:
    app.config["TRIBUNE_PREDICTION_EXACT_POINTS"] = 5
    app.config["TRIBUNE_PREDICTION_OUTCOME_POINTS"] = 2
    poll = match_poll(db, make_article())
    exact, outcome = make_user(), make_user()
    post_prediction(member_client(app, exact), poll.id, 0, 3)
    post_prediction(member_client(app, outcome), poll.id, 1, 2)
    kick_off(db, poll)
    response = app.test_client().post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 0, "away_goals": 3},
        headers=editor_headers,
    )
    assert response.status_code == 200
    board = leaderboard(db, COMPETITION)
    assert [(s.name, s.points) for s in board.standings] == [
        (exact.username, 5),
        (outcome.username, 2),
    ]


def test_only_editors_enter_results(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = match_poll(db, make_article())
    kick_off(db, poll)
    client = member_client(app, make_user())
    response = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 1, "away_goals": 0},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 403


def test_bad_results_are_refused(
    app: Flask, db: Session, make_article: Callable[..., Article], editor_headers, make_poll
) -> None:
    poll = match_poll(db, make_article())
    choice = make_poll()
    kick_off(db, poll)
    client = app.test_client()
    bad = client.post(
        f"/api/v1/polls/{poll.id}/result",
        json={"home_goals": 1, "away_goals": 30},
        headers=editor_headers,
    )
    assert bad.status_code == 422 and error_code(bad) == "invalid_result"
    other = client.post(
        f"/api/v1/polls/{choice.id}/result",
        json={"home_goals": 1, "away_goals": 0},
        headers=editor_headers,
    )
    assert other.status_code == 409 and error_code(other) == "not_a_prediction_poll"


@pytest.mark.parametrize(
    ("predicted", "result", "points"),
    [
        ((2, 1), (2, 1), 3),
        ((1, 0), (2, 1), 1),
        ((0, 0), (2, 2), 1),
        ((0, 1), (1, 3), 1),
        ((1, 1), (2, 1), 0),
        ((2, 0), (0, 2), 0),
    ],
)
def test_points_for(predicted, result, points) -> None:
    assert points_for(predicted, result, 3, 1) == points


# ---------------------------------------------------------------- leaderboard


def test_leaderboard_order_ties_own_rank_and_competitions(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    first, second = match_poll(db, make_article()), match_poll(db, make_article())
    other = match_poll(db, make_article(), competition="Beker van België 2026-27")
    ann, bob, cas, dirk = (make_user(username=n) for n in ("ann", "bob", "cas", "dirk"))
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        # first ends 2-1, second 0-0.
        for user, a, b in ((ann, (2, 1), (0, 0)), (bob, (1, 0), (1, 1)), (cas, (1, 0), (1, 1))):
            service_predict(session, first.id, user.id, *a)
            service_predict(session, second.id, user.id, *b)
        service_predict(session, first.id, dirk.id, 3, 0)  # 1 point, one prediction
        service_predict(session, other.id, bob.id, 5, 0)
        session.commit()
        for poll, result in ((first, (2, 1)), (second, (0, 0)), (other, (5, 0))):
            poll_row = session.get(Poll, poll.id)
            poll_row.closes_at = utcnow() - timedelta(minutes=1)
            session.commit()
            resolve(session, poll.id, *result, None, utcnow(), 3, 1)
            session.commit()
    finally:
        session.close()
    board = leaderboard(db, COMPETITION)
    # ann 6 (2 exact); bob and cas 2 each (0 exact, 2 predictions) share rank 2; dirk 1.
    assert [(s.rank, s.name, s.points, s.predictions, s.exact) for s in board.standings] == [
        (1, "ann", 6, 2, 2),
        (2, "bob", 2, 2, 0),
        (2, "cas", 2, 2, 0),
        (4, "dirk", 1, 1, 0),
    ]
    client = member_client(app, cas)
    body = client.get(f"/api/v1/leaderboards/{COMPETITION}").get_json()
    assert body["competition"] == COMPETITION and body["members"] == 4
    assert [r["user"] for r in body["standings"]] == ["ann", "bob", "cas", "dirk"]
    assert body["own"] == {"rank": 2, "user": "cas", "points": 2, "predictions": 2, "exact": 0}
    cup = app.test_client().get("/api/v1/leaderboards/Beker van België 2026-27").get_json()
    assert [(r["user"], r["points"]) for r in cup["standings"]] == [("bob", 3)]
    assert cup["own"] is None
    empty = app.test_client().get("/api/v1/leaderboards/Onbekend").get_json()
    assert empty["standings"] == [] and empty["members"] == 0


def test_quarantine_and_account_deletion_leave_the_leaderboard(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = match_poll(db, make_article())
    ann, bob = make_user(username="ann"), make_user(username="bob")
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        service_predict(session, poll.id, ann.id, 1, 0)
        service_predict(session, poll.id, bob.id, 1, 0)
        session.commit()
        session.get(Poll, poll.id).closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
        resolve(session, poll.id, 1, 0, None, utcnow(), 3, 1)
        session.commit()
        assert [s.name for s in leaderboard(session, COMPETITION).standings] == ["ann", "bob"]
        ballot = session.scalar(select(Ballot.id).where(Ballot.user_id == ann.id))
        set_quarantine(
            session, poll.id, True, QuarantineScope.SELECTED, [ballot], None, utcnow()
        )
        session.commit()
        assert [s.name for s in leaderboard(session, COMPETITION).standings] == ["bob"]
        set_quarantine(
            session, poll.id, False, QuarantineScope.SELECTED, [ballot], None, utcnow()
        )
        session.commit()
        delete_account(
            session, session.get(User, bob.id), TEST_PASSWORD, CommentChoice.KEEP, now=utcnow()
        )
        session.commit()
        assert [s.name for s in leaderboard(session, COMPETITION).standings] == ["ann"]
        assert recount(session) == []
    finally:
        session.close()


# ---------------------------------------------------------------- history, export, recount


def test_recount_repairs_drifted_points(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll, open_poll = match_poll(db, make_article()), match_poll(db, make_article())
    fan = make_user()
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        service_predict(session, poll.id, fan.id, 2, 0)
        service_predict(session, open_poll.id, fan.id, 1, 0)
        session.commit()
        session.get(Poll, poll.id).closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
        resolve(session, poll.id, 2, 0, None, utcnow(), 3, 1)
        session.commit()
        resolved_ballot, open_ballot = (
            session.scalar(select(Ballot.id).where(Ballot.poll_id == p.id))
            for p in (poll, open_poll)
        )
        session.execute(
            update(ScorePrediction)
            .where(ScorePrediction.ballot_id == resolved_ballot)
            .values(points=0)
        )
        session.execute(
            update(ScorePrediction).where(ScorePrediction.ballot_id == open_ballot).values(points=3)
        )
        session.commit()
        drifts = recount(session)
        session.commit()
        assert {(d.counter, d.key, d.stored, d.actual) for d in drifts} == {
            ("score_predictions.points", str(resolved_ballot), 0, 3),
            ("score_predictions.points", str(open_ballot), 3, None),
        }
        assert recount(session) == []
        assert leaderboard(session, COMPETITION).standings[0].points == 3
    finally:
        session.close()


def test_own_history_and_gdpr_export(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    from polls.predictions import history
    from privacy.export import export_user_data

    played = match_poll(db, make_article(), home="KRC Genk", away="Standard")
    coming = match_poll(db, make_article())
    fan = make_user()
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        service_predict(session, played.id, fan.id, 2, 2)
        service_predict(session, coming.id, fan.id, 0, 1)
        session.commit()
        session.get(Poll, played.id).closes_at = utcnow() - timedelta(hours=2)
        session.commit()
        resolve(session, played.id, 1, 1, None, utcnow(), 3, 1)
        session.commit()
        items = history(session, fan.id)
        assert [(i.home_team, i.home_goals, i.away_goals, i.points) for i in items] == [
            ("Club Brugge", 0, 1, None),
            ("KRC Genk", 2, 2, 1),
        ]
        export = export_user_data(session, session.get(User, fan.id))
    finally:
        session.close()
    predictions = sorted(
        (b["prediction"] for b in export["ballots"] if b["prediction"]),
        key=lambda p: p["match"],
    )
    assert predictions == [
        {
            "match": "Club Brugge - Anderlecht",
            "competition": COMPETITION,
            "home_goals": 0,
            "away_goals": 1,
            "points": None,
        },
        {
            "match": "KRC Genk - Standard",
            "competition": COMPETITION,
            "home_goals": 2,
            "away_goals": 2,
            "points": 1,
        },
    ]


# ---------------------------------------------------------------- Hypothesis

ACTIONS = ("predict", "resolve", "quarantine", "release", "delete_account", "anonymous")


@pytest.fixture
def world(app: Flask, db: Session, make_user, make_article) -> dict[str, Any]:
    polls = [match_poll(db, make_article(cms_id)) for cms_id in ("club-anderlecht", "ku-genk")]
    cup = match_poll(db, make_article("beker"), competition="Beker")
    return {
        "polls": [p.id for p in (*polls, cup)],
        "fans": [make_user().id for _ in range(3)],
    }


def apply(session: Session, world: dict[str, Any], op: tuple[str, int, int, int]) -> None:
    action, pick, home, away = op
    now = utcnow()
    poll_id = world["polls"][pick % len(world["polls"])]
    if action == "predict":
        user = session.get(User, world["fans"][pick % len(world["fans"])])
        if user is None or user.deleted_at is not None:
            return
        poll = session.get(Poll, poll_id)
        if poll.closes_at <= now:  # kicked off: refused, as the API refuses it
            return
        predict(session, poll_id, home, away, Voter(f"u:{user.id}", user.id), now)
    elif action == "anonymous":
        with pytest.raises(Exception, match="Meld je aan"):
            predict(session, poll_id, home, away, Voter("a:x"), now)
        session.rollback()
    elif action == "resolve":
        session.get(Poll, poll_id).closes_at = now - timedelta(seconds=1)
        resolve(session, poll_id, home, away, None, now, 3, 1)
    elif action in ("quarantine", "release"):
        ballots = session.scalars(
            select(Ballot.id).where(
                Ballot.quarantined_at.is_not(None)
                if action == "release"
                else Ballot.quarantined_at.is_(None)
            )
        ).all()
        if ballots:
            ballot = session.get(Ballot, ballots[pick % len(ballots)])
            set_quarantine(
                session,
                ballot.poll_id,
                action == "quarantine",
                QuarantineScope.SELECTED,
                [ballot.id],
                None,
                now,
            )
    elif action == "delete_account":
        user = session.get(User, world["fans"][pick % len(world["fans"])])
        if user is not None and user.deleted_at is None:
            delete_account(session, user, TEST_PASSWORD, CommentChoice.KEEP, now=now)


def expected_board(session: Session, competition: str) -> dict[str, tuple[int, int, int]]:
    """name -> (points, predictions, exact), computed in Python from the rows."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for prediction, ballot, poll in session.execute(
        select(ScorePrediction, Ballot, Poll)
        .join(Ballot, Ballot.id == ScorePrediction.ballot_id)
        .join(Poll, Poll.id == Ballot.poll_id)
    ):
        if (
            poll.competition != competition
            or ballot.user_id is None
            or ballot.quarantined_at is not None
            or poll.resolved_at is None
        ):
            continue
        result = (poll.result_home_goals, poll.result_away_goals)
        predicted = (prediction.home_goals, prediction.away_goals)
        name = session.get(User, ballot.user_id).username
        totals[name][0] += points_for(predicted, result, 3, 1)
        totals[name][1] += 1
        totals[name][2] += int(predicted == result)
    return {name: (p, n, e) for name, (p, n, e) in totals.items()}


@settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(
        st.tuples(
            st.sampled_from(ACTIONS),
            st.integers(min_value=0, max_value=1000),
            st.integers(min_value=0, max_value=4),
            st.integers(min_value=0, max_value=4),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_the_leaderboard_equals_its_rows_after_any_sequence(
    app: Flask, world: dict[str, Any], operations: list
) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        for op in operations:
            apply(session, world, op)
            session.commit()
        for competition in (COMPETITION, "Beker"):
            board = leaderboard(session, competition)
            got = {s.name: (s.points, s.predictions, s.exact) for s in board.standings}
            assert got == expected_board(session, competition)
            keys = [(-s.points, -s.exact, s.predictions) for s in board.standings]
            assert keys == sorted(keys)
            for before, after in zip(board.standings, board.standings[1:], strict=False):
                same = (before.points, before.exact, before.predictions) == (
                    after.points,
                    after.exact,
                    after.predictions,
                )
                assert (after.rank == before.rank) == same
        assert recount(session) == []
        session.rollback()
    finally:
        session.close()


# ---------------------------------------------------------------- OpenAPI


def test_the_openapi_document_covers_predictions(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    predict_op = paths["/api/v1/polls/{poll_id}/predictions"]["post"]
    assert {"200", "201", "401", "404", "409", "422"} <= set(predict_op["responses"])
    result_op = paths["/api/v1/polls/{poll_id}/result"]["post"]
    assert {"200", "404", "409", "422"} <= set(result_op["responses"])
    assert "200" in paths["/api/v1/leaderboards/{competition}"]["get"]["responses"]
    schemas = document["components"]["schemas"]
    assert "score_prediction" in schemas["PollKind"]["enum"]
    assert {"home_team", "away_team", "competition"} <= set(schemas["PollIn"]["properties"])
    assert "match" in schemas["PollOut"]["properties"]
    assert schemas["PredictionIn"]["properties"]["home_goals"]["maximum"] == 20


def test_voter_scope_of_a_prediction_poll_stays_members_only(
    app: Flask, db: Session, make_article: Callable[..., Article], editor_headers
) -> None:
    poll = match_poll(db, make_article())
    response = app.test_client().patch(
        f"/api/v1/polls/{poll.id}", json={"voter_scope": "everyone"}, headers=editor_headers
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["voter_scope"] == VoterScope.LOGGED_IN.value


# ---------------------------------------------------------------- pages and embeds


def test_article_page_and_embed_predict_with_a_plain_form(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    import re

    article = make_article()
    poll = match_poll(db, article)
    fan, other = make_user(), make_user()
    anonymous = app.test_client().get(f"/artikels/{article.cms_id}")
    assert "Meld je aan om te voorspellen" in anonymous.get_data(as_text=True)
    client = member_client(app, fan)
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert 'name="home_goals"' in page and 'type="number"' in page
    refused = client.post(
        f"/artikels/{article.cms_id}/peilingen/{poll.id}",
        data={"home_goals": "2", "away_goals": "25"},
    )
    assert refused.status_code == 303
    again = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "doelpunten van 0 tot 20" in again
    assert 'value="25"' in again  # what was typed stays
    done = client.post(
        f"/artikels/{article.cms_id}/peilingen/{poll.id}",
        data={"home_goals": "2", "away_goals": "1"},
    )
    assert done.status_code == 303
    after = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Jouw voorspelling: 2 – 1" in after
    # The embed: a member's plain form post inside the widget.
    other_client = member_client(app, other)
    widget = other_client.get(f"/embed/polls/{poll.id}").get_data(as_text=True)
    token = re.search(r'name="form_token"[^>]*value="([^"]+)"', widget)
    assert token and 'name="away_goals"' in widget
    posted = other_client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": token.group(1), "home_goals": "0", "away_goals": "0"},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert posted.status_code == 201, posted.get_data(as_text=True)[:2000]
    assert "Jouw voorspelling: 0 – 0" in posted.get_data(as_text=True)
    db.rollback()
    assert len(db.scalars(select(ScorePrediction)).all()) == 2


def test_leaderboard_pages_and_embed(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = match_poll(db, make_article())
    match_poll(db, make_article(), competition="Beker van België 2026-27")
    ann, bob = make_user(username="ann"), make_user(username="bob")
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        service_predict(session, poll.id, ann.id, 2, 0)
        service_predict(session, poll.id, bob.id, 1, 1)
        session.commit()
        session.get(Poll, poll.id).closes_at = utcnow() - timedelta(minutes=1)
        session.commit()
        resolve(session, poll.id, 2, 0, None, utcnow(), 3, 1)
        session.commit()
    finally:
        session.close()
    client = member_client(app, bob)
    page = client.get("/klassement", query_string={"competitie": COMPETITION})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert text.index('<th scope="row">ann</th>') < text.index('<th scope="row">bob</th>')
    assert "Jouw plaats: <strong>2</strong> van 2" in text
    assert "Beker van België 2026-27" in text  # the competition chooser
    mine = client.get("/profiel/voorspellingen").get_data(as_text=True)
    assert "Club Brugge – Anderlecht" in mine and "1 – 1" in mine and "2 – 0" in mine
    assert app.test_client().get("/profiel/voorspellingen").status_code in (302, 401)
    embed = app.test_client().get(f"/embed/klassement/{COMPETITION}")
    assert embed.status_code == 200
    assert "<script" not in embed.get_data(as_text=True)
    assert "frame-ancestors" in embed.headers["Content-Security-Policy"]
    assert ">ann<" in embed.get_data(as_text=True)


def test_editor_creates_a_prediction_poll_and_enters_the_result_on_redactie(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    article = make_article()
    editor, fan = make_user(Role.EDITOR), make_user()
    client = member_client(app, editor)
    url = f"/redactie/artikels/{article.cms_id}/voorspellingen/nieuw"
    assert client.get(url).status_code == 200
    refused = client.post(
        url,
        data={
            "question": "Voorspel de eindstand",
            "home_team": "Club Brugge",
            "away_team": "",
            "competition": "Jupiler Pro League 2026-27",
            "closes_at": "",
            "results_visibility": "always",
        },
    )
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Vul de bezoekers in." in page and "Vul de aftrap in" in page
    assert 'value="Club Brugge"' in page  # what was typed stays
    kickoff = (utcnow() + timedelta(days=2)).astimezone().strftime("%Y-%m-%dT%H:%M")
    created = client.post(
        url,
        data={
            "question": "Voorspel de eindstand",
            "home_team": "Club Brugge",
            "away_team": "Anderlecht",
            "competition": COMPETITION,
            "closes_at": kickoff,
            "results_visibility": "always",
        },
    )
    assert created.status_code == 303, created.get_data(as_text=True)[:3000]
    db.rollback()
    poll = db.scalars(select(Poll).where(Poll.kind == PollKind.SCORE_PREDICTION)).one()
    assert (poll.home_team, poll.away_team, poll.competition) == (
        "Club Brugge",
        "Anderlecht",
        COMPETITION,
    )
    assert client.get(f"/redactie/peilingen/{poll.id}").status_code == 200
    results_page = client.get(f"/redactie/peilingen/{poll.id}/resultaten").get_data(as_text=True)
    assert "pas na de aftrap" in results_page
    post_prediction(member_client(app, fan), poll.id, 1, 0)
    kick_off(db, poll)
    bad = client.post(
        f"/redactie/peilingen/{poll.id}/uitslag", data={"home_goals": "1", "away_goals": "99"}
    )
    assert bad.status_code == 422
    assert "doelpunten van 0 tot 20" in bad.get_data(as_text=True)
    assert 'value="99"' in bad.get_data(as_text=True)
    done = client.post(
        f"/redactie/peilingen/{poll.id}/uitslag", data={"home_goals": "1", "away_goals": "0"}
    )
    assert done.status_code == 303
    db.rollback()
    assert db.scalars(select(ScorePrediction.points)).all() == [3]
    page = client.get(f"/redactie/peilingen/{poll.id}/resultaten").get_data(as_text=True)
    assert "1 voorspellingen gescoord" in page or "1 voorspelling" in page
    assert "Verbeter de uitslag" in page


def test_editor_moves_the_kick_off_of_a_prediction_poll_and_exports_it(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = match_poll(db, make_article())
    editor, fan = make_user(Role.EDITOR), make_user()
    post_prediction(member_client(app, fan), poll.id, 3, 2)
    client = member_client(app, editor)
    page = client.get(f"/redactie/peilingen/{poll.id}").get_data(as_text=True)
    assert "de wedstrijd ligt vast" in page
    kickoff = (utcnow() + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/redactie/peilingen/{poll.id}",
        data={
            "question": poll.question,
            "voter_scope": "everyone",
            "closes_at": kickoff,
            "results_visibility": "always",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:3000]
    db.rollback()
    db.expire_all()  # the poll row this session loaded before the edit
    moved = db.get(Poll, poll.id)
    assert moved.closes_at > utcnow() + timedelta(days=2)
    assert moved.voter_scope is VoterScope.LOGGED_IN
    assert (moved.home_team, moved.away_team) == ("Club Brugge", "Anderlecht")
    ballot_id = db.scalar(select(Ballot.id).where(Ballot.poll_id == poll.id))
    db.rollback()
    quarantined = client.post(
        f"/redactie/peilingen/{poll.id}/quarantaine",
        data={"action": "quarantine", "scope": "selected", "ballot": [str(ballot_id)]},
    )
    assert quarantined.status_code in (302, 303), quarantined.get_data(as_text=True)[:2000]
    listed = client.get(f"/redactie/peilingen/{poll.id}/resultaten?filter=quarantined")
    assert "3 – 2" in listed.get_data(as_text=True)
    db.rollback()
    assert db.get(Ballot, ballot_id).quarantined_at is not None
    release = client.post(
        f"/redactie/peilingen/{poll.id}/quarantaine",
        data={"action": "release", "scope": "selected", "ballot": [str(ballot_id)]},
    )
    assert release.status_code in (302, 303)
    stand = client.get(f"/redactie/peilingen/{poll.id}/resultaten.csv").get_data(as_text=True)
    assert "Club Brugge - Anderlecht" in stand and "\r\n3 - 2;1;\r\n" in stand
    ballots = client.get(f"/redactie/peilingen/{poll.id}/stemmen.csv").get_data(as_text=True)
    assert "voorspelling" in ballots and ";3 - 2;" in ballots
