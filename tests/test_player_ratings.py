"""Player ratings (issue 20, item 4): a poll kind whose vote is a rating set for a line-up.

Create and validate through the API, rate under the one-ballot rules, quarantine and release,
results with the man of the match and the members' stand, CSV, recount of injected drift, and
Hypothesis sequences of rate / quarantine / release / sign-in claims / account deletion
keeping the players' counters equal to their rows.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import (
    Article,
    Ballot,
    PlayerRating,
    PlayerRole,
    Poll,
    PollKind,
    PollPlayer,
    Role,
    User,
    utcnow,
)
from polls.claims import claim_anonymous_ballots
from polls.ratings import (
    MAX_PLAYERS,
    cast_ratings,
    man_of_the_match,
    rating_results,
    true_player_counters,
)
from polls.services import (
    PollDraft,
    QuarantineScope,
    VoteContext,
    Voter,
    create_poll,
    set_quarantine,
)
from privacy.deletion import CommentChoice, delete_account
from tallies.recount import recount
from tests.conftest import TEST_PASSWORD, login
from tests.polls_fixtures import SAME_ORIGIN, assert_no_drift, error_code, voter_token

LINEUP = [
    {"name": "Mignolet", "shirt_number": 22, "role": "starter"},
    {"name": "Vanaken", "shirt_number": 20},
    {"name": "Nielsen", "shirt_number": 9, "role": "starter"},
    {"name": "Skov Olsen", "shirt_number": 7, "role": "substitute"},
]
RATINGS_POLL = {
    "question": "Geef de spelers van Club een cijfer",
    "kind": "player_ratings",
    "players": LINEUP,
    "coach": "Nicky Hayen",
}


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]
    app_settings["TRIBUNE_MOTM_MIN_RATINGS"] = 2


@pytest.fixture
def editor_headers(db: Session, make_user: Callable[..., User]) -> dict[str, str]:
    from accounts.services import create_api_token, token_scopes_for

    _, token = create_api_token(db, make_user(Role.EDITOR), "test", token_scopes_for(Role.EDITOR))
    db.commit()
    return {"Authorization": f"Bearer {token}"}


def ratings_poll(db: Session, article: Article, **fields: Any) -> Poll:
    draft = PollDraft(
        question="Cijfers voor Club",
        options=[],
        kind=PollKind.PLAYER_RATINGS,
        players=fields.pop("players", LINEUP),
        coach=fields.pop("coach", "Nicky Hayen"),
        **fields,
    )
    poll = create_poll(db, article, draft, None, utcnow())
    db.commit()
    return poll


def rate(client: FlaskClient, poll_id: int, ratings: Any, token: str | None = None) -> Any:
    headers = {**SAME_ORIGIN}
    body: dict[str, Any] = {"ratings": ratings}
    if token:
        body["voter_token"] = token
    return client.post(f"/api/v1/polls/{poll_id}/ratings", json=body, headers=headers)


def player_ids(poll: Poll) -> list[int]:
    return [p.id for p in poll.players]


def stored(session: Session) -> dict[int, list[int]]:
    session.expire_all()
    return {
        p.id: [p.rating_count, p.rating_sum, *p.distribution]
        for p in session.scalars(select(PollPlayer).order_by(PollPlayer.id))
    }


def actual(session: Session) -> dict[int, list[int]]:
    rows = true_player_counters(session)
    result = {}
    for pid in session.scalars(select(PollPlayer.id).order_by(PollPlayer.id)):
        dist = rows.get(pid, [0] * 10)
        result[pid] = [sum(dist), sum((i + 1) * n for i, n in enumerate(dist)), *dist]
    return result


# ---------------------------------------------------------------- create and validate


def test_editor_creates_a_ratings_poll_with_its_lineup(
    client: FlaskClient, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls", json=RATINGS_POLL, headers=editor_headers
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["kind"] == "player_ratings"
    assert body["options"] == []
    assert [(p["name"], p["shirt_number"], p["role"]) for p in body["players"]] == [
        ("Mignolet", 22, "starter"),
        ("Vanaken", 20, "starter"),
        ("Nielsen", 9, "starter"),
        ("Skov Olsen", 7, "substitute"),
        ("Nicky Hayen", None, "coach"),
    ]
    assert body["ratings"]["ballots"] == 0
    assert body["ratings"]["man_of_the_match"] is None


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"players": []}, "lineup_empty", "players"),
        (
            {"players": [{"name": f"S{i}", "shirt_number": i + 1} for i in range(MAX_PLAYERS + 1)]},
            "too_many_players",
            "players",
        ),
        (
            {"players": [{"name": "A", "shirt_number": 4}, {"name": "B", "shirt_number": 4}]},
            "duplicate_shirt_number",
            "players.1.shirt_number",
        ),
        ({"players": [{"name": "   ", "shirt_number": 4}]}, "empty_player_name", "players.0.name"),
        (
            {"players": [{"name": "A", "shirt_number": 0}]},
            "invalid_shirt_number",
            "players.0.shirt_number",
        ),
        (
            {"players": [{"name": "A", "shirt_number": 100}]},
            "invalid_shirt_number",
            "players.0.shirt_number",
        ),
        (
            {"players": [{"name": "x" * 81, "shirt_number": 1}]},
            "player_name_too_long",
            "players.0.name",
        ),
        ({"coach": "  "}, "empty_player_name", "coach"),
    ],
)
def test_lineup_errors_have_codes_and_fields(
    client: FlaskClient,
    make_article: Callable[..., Article],
    editor_headers: dict,
    change: dict,
    code: str,
    field: str,
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls",
        json={**RATINGS_POLL, **change},
        headers=editor_headers,
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == code
    assert field in error["details"]["fields"]
    assert code in error["details"]["codes"]


def test_options_on_a_ratings_poll_and_players_on_a_choice_poll_are_refused(
    client: FlaskClient, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    url = f"/api/v1/articles/{article.cms_id}/polls"
    response = client.post(
        url, json={**RATINGS_POLL, "options": ["Ja", "Nee"]}, headers=editor_headers
    )
    assert response.status_code == 422
    assert "options" in response.get_json()["error"]["details"]["fields"]
    response = client.post(
        url,
        json={"question": "Kampioen?", "options": ["Ja", "Nee"], "players": LINEUP},
        headers=editor_headers,
    )
    assert response.status_code == 422
    assert "players" in response.get_json()["error"]["details"]["fields"]
    # A choice poll still needs its options.
    response = client.post(url, json={"question": "Kampioen?"}, headers=editor_headers)
    assert response.status_code == 422
    assert "options" in response.get_json()["error"]["details"]["fields"]


def test_patch_changes_a_ratings_polls_times_but_not_its_kind_or_options(
    client: FlaskClient, db: Session, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    poll = ratings_poll(db, make_article())
    url = f"/api/v1/polls/{poll.id}"
    response = client.patch(url, json={"results_visibility": "after_vote"}, headers=editor_headers)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["kind"] == "player_ratings"
    assert len(response.get_json()["players"]) == 5
    refused = client.patch(url, json={"options": ["Ja", "Nee"]}, headers=editor_headers)
    assert refused.status_code == 422
    assert "options" in refused.get_json()["error"]["details"]["fields"]
    closed = client.patch(url, json={"state": "closed"}, headers=editor_headers)
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"


# ---------------------------------------------------------------- rating


def test_a_fan_rates_once_and_gets_the_same_set_back(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = ratings_poll(db, make_article())
    ids = player_ids(poll)
    token = voter_token(client, poll.id)
    first = rate(
        client,
        poll.id,
        [{"player_id": ids[0], "score": 8}, {"player_id": ids[4], "score": 6}],
        token,
    )
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["counted"] is True
    assert body["ballot"]["ratings"] == [
        {"player_id": ids[0], "score": 8},
        {"player_id": ids[4], "score": 6},
    ]
    by_id = {p["id"]: p for p in body["poll"]["ratings"]["players"]}
    assert by_id[ids[0]]["count"] == 1 and by_id[ids[0]]["average"] == 8.0
    assert by_id[ids[0]]["distribution"][7] == 1
    assert by_id[ids[1]]["average"] is None
    again = rate(client, poll.id, [{"player_id": ids[1], "score": 3}], token)
    assert again.status_code == 200
    assert again.get_json()["counted"] is False
    assert again.get_json()["ballot"]["id"] == body["ballot"]["id"]
    assert again.get_json()["ballot"]["ratings"] == body["ballot"]["ratings"]
    db.rollback()
    assert len(db.scalars(select(PlayerRating)).all()) == 2
    db.expire_all()
    assert db.get(Poll, poll.id).ballot_count == 1
    assert_no_drift(app)
    # GET shows the caller's own rating set.
    shown = client.get(f"/api/v1/polls/{poll.id}", headers={"X-Tribune-Voter-Token": token})
    assert shown.get_json()["own_ballot"]["ratings"] == body["ballot"]["ratings"]


@pytest.mark.parametrize(
    "ratings",
    [
        [],
        [{"player_id": 0, "score": 11}],
        [{"player_id": 0, "score": 0}],
        [{"player_id": 0, "score": 5}, {"player_id": 0, "score": 6}],
        [{"player_id": 999999, "score": 5}],
        "acht",
    ],
)
def test_bad_rating_sets_are_refused(
    client: FlaskClient, db: Session, make_article: Callable[..., Article], ratings: Any
) -> None:
    poll = ratings_poll(db, make_article())
    first = player_ids(poll)[0]
    if isinstance(ratings, list):
        ratings = [
            {**r, "player_id": first if r["player_id"] == 0 else r["player_id"]} for r in ratings
        ]
    token = voter_token(client, poll.id)
    response = rate(client, poll.id, ratings, token)
    assert response.status_code == 422
    assert error_code(response) == "invalid_ratings"


def test_kinds_do_not_mix(
    client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    from tests.polls_fixtures import create_poll as create_choice_poll

    article = make_article()
    choice = create_choice_poll(db, article)
    ratings = ratings_poll(db, article)
    token = voter_token(client, choice.id)
    response = rate(client, choice.id, [{"player_id": ratings.players[0].id, "score": 7}], token)
    assert response.status_code == 409
    assert error_code(response) == "not_a_ratings_poll"
    token = voter_token(client, ratings.id)
    response = client.post(
        f"/api/v1/polls/{ratings.id}/votes",
        json={"option_ids": [choice.options[0].id], "voter_token": token},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 422
    assert error_code(response) == "invalid_options"


def test_rating_needs_a_token_or_a_login_and_an_open_poll(
    client: FlaskClient, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    from tests.polls_fixtures import past

    poll = ratings_poll(db, make_article())
    ids = player_ids(poll)
    response = rate(client, poll.id, [{"player_id": ids[0], "score": 7}])
    assert response.status_code == 401
    assert error_code(response) == "voter_token_required"
    fan = make_user()
    closed = ratings_poll(db, make_article(), opens_at=past(days=2), closes_at=None)
    closed.closes_at = past(hours=1)
    db.commit()
    login(client, fan)
    response = rate(client, closed.id, [{"player_id": closed.players[0].id, "score": 7}])
    assert response.status_code == 409
    assert error_code(response) == "poll_closed"
    response = rate(client, poll.id, [{"player_id": ids[0], "score": 7}])
    assert response.status_code == 201


def test_the_ip_allowance_and_bursts_mark_rating_sets(
    app: Flask, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = ratings_poll(db, make_article())
    pid = poll.players[0].id
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash="h" * 64, ip_allowance=2)
        for n in range(3):
            cast_ratings(session, poll.id, {pid: 7}, Voter(f"a:t{n}"), context, utcnow())
            session.commit()
        cast_ratings(
            session,
            poll.id,
            {pid: 7},
            Voter("a:burst"),
            VoteContext(ip_hash=None, ip_allowance=0, burst=True),
            utcnow(),
        )
        session.commit()
        marks = session.execute(
            select(Ballot.voter_key, Ballot.suspicion).where(Ballot.poll_id == poll.id)
        ).all()
        assert dict(marks) == {
            "a:t0": None,
            "a:t1": None,
            "a:t2": "ip_allowance",
            "a:burst": "burst",
        }
    finally:
        session.close()


# ---------------------------------------------------------------- quarantine and results


def test_quarantine_takes_a_set_out_of_the_player_counters_and_release_puts_it_back(
    app: Flask, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = ratings_poll(db, make_article())
    a, b = player_ids(poll)[:2]
    session: Session = app.extensions["tribune.sessionmaker"]()
    context = VoteContext(ip_hash=None, ip_allowance=0)
    try:
        cast_ratings(session, poll.id, {a: 9, b: 4}, Voter("a:1"), context, utcnow())
        outcome = cast_ratings(session, poll.id, {a: 5}, Voter("a:2"), context, utcnow())
        session.commit()
        assert stored(session)[a][:2] == [2, 14]
        set_quarantine(
            session, poll.id, True, QuarantineScope.SELECTED, [outcome.ballot_id], None, utcnow()
        )
        session.commit()
        counters = stored(session)
        assert counters[a][:2] == [1, 9] and counters[a][2 + 4] == 0 and counters[a][2 + 8] == 1
        assert counters == actual(session)
        poll_row = session.get(Poll, poll.id)
        assert rating_results(session, poll_row, 1).players[0].average == 9.0
        set_quarantine(
            session, poll.id, False, QuarantineScope.SELECTED, [outcome.ballot_id], None, utcnow()
        )
        session.commit()
        assert stored(session)[a][:2] == [2, 14]
        assert stored(session) == actual(session)
    finally:
        session.close()
    assert_no_drift(app)


def test_man_of_the_match_needs_the_minimum_and_members_have_their_own_stand(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = ratings_poll(db, make_article())
    keeper, captain, striker = player_ids(poll)[:3]
    coach = poll.players[-1].id
    fans = [make_user() for _ in range(2)]
    session: Session = app.extensions["tribune.sessionmaker"]()
    context = VoteContext(ip_hash=None, ip_allowance=0)
    try:
        # The striker's one 10 is not enough (minimum 2); the coach is never man of the match.
        sets = [
            (Voter(f"u:{fans[0].id}", fans[0].id), {keeper: 7, captain: 8, coach: 10}),
            (Voter(f"u:{fans[1].id}", fans[1].id), {keeper: 6, captain: 9, coach: 10}),
            (Voter("a:x"), {keeper: 9, captain: 5, striker: 10}),
        ]
        for voter, scores in sets:
            cast_ratings(session, poll.id, scores, voter, context, utcnow())
        session.commit()
        poll_row = session.get(Poll, poll.id)
        everyone = rating_results(session, poll_row, 2)
        assert everyone.ballots == 3
        assert everyone.motm_id == keeper  # 22/3 = 7.33 beats 22/3 … tie → more ratings, first
        members = rating_results(session, poll_row, 2, members_only=True)
        assert members.ballots == 2
        assert members.motm_id == captain  # 8.5 against 6.5
        assert rating_results(session, poll_row, 4).motm_id is None
    finally:
        session.close()
    body = client.get(f"/api/v1/polls/{poll.id}").get_json()
    assert body["ratings"]["man_of_the_match"] == keeper
    assert body["ratings"]["motm_min_ratings"] == 2
    assert body["ratings_members"]["man_of_the_match"] == captain


def test_man_of_the_match_tie_breaks() -> None:
    from polls.ratings import PlayerResult

    def player(pid: int, count: int, total: int, role=PlayerRole.STARTER) -> PlayerResult:
        return PlayerResult(pid, f"S{pid}", pid, role, count, total, (0,) * 10)

    assert man_of_the_match([player(1, 2, 16), player(2, 4, 32)], 2) == 2
    assert man_of_the_match([player(1, 2, 16), player(2, 2, 16)], 2) == 1
    assert man_of_the_match([player(1, 1, 10), player(2, 2, 12)], 2) == 2
    assert man_of_the_match([player(1, 5, 50, PlayerRole.COACH)], 1) is None


def test_csv_exports_per_player_and_per_ballot(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = ratings_poll(db, make_article())
    keeper, captain = player_ids(poll)[:2]
    editor = make_user(Role.EDITOR)
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash=None, ip_allowance=0)
        cast_ratings(session, poll.id, {keeper: 7, captain: 8}, Voter("a:1"), context, utcnow())
        cast_ratings(session, poll.id, {keeper: 8}, Voter("a:2"), context, utcnow())
        session.commit()
    finally:
        session.close()
    login(client, editor)
    text = client.get(f"/redactie/peilingen/{poll.id}/resultaten.csv").get_data(as_text=True)
    lines = text.lstrip("\ufeff").splitlines()
    assert lines[1].startswith("rugnummer;speler;rol;gemiddelde;aantal cijfers;cijfer 1")
    assert "22;Mignolet;basis;7,50;2;0;0;0;0;0;0;1;1;0;0;;0" in lines
    assert ";Nicky Hayen;trainer;;0;" in text
    assert "man van de match (minstens 2 cijfers);Mignolet" in lines
    ballots_text = client.get(f"/redactie/peilingen/{poll.id}/stemmen.csv").get_data(as_text=True)
    assert "22 Mignolet: 7 | 20 Vanaken: 8" in ballots_text


# ---------------------------------------------------------------- pages without JavaScript


def test_embed_rates_a_lineup_with_a_plain_form(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = ratings_poll(db, make_article())
    keeper, captain = player_ids(poll)[:2]
    html = client.get(f"/embed/polls/{poll.id}").get_data(as_text=True)
    assert 'class="poll-ratings-form"' in html and 'class="poll-form"' not in html
    assert f'name="score-{keeper}"' in html and "Nicky Hayen" in html
    form_token = re.search(r'name="form_token"[^>]*value="([^"]+)"', html).group(1)
    # A bad value is refused with a Dutch message, and what was chosen stays chosen.
    refused = client.post(
        f"/embed/polls/{poll.id}",
        data={"form_token": form_token, f"score-{keeper}": "7", f"score-{captain}": "elf"},
        headers=SAME_ORIGIN,
    )
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Kies per speler een cijfer van 1 tot 10." in text
    assert re.search(rf'id="p{poll.id}-s{keeper}">.*?<option value="7" selected>', text, re.S)
    response = client.post(
        f"/embed/polls/{poll.id}",
        data={
            "form_token": form_token,
            f"score-{keeper}": "7",
            f"score-{captain}": "",
            f"score-{player_ids(poll)[-1]}": "9",
        },
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 201
    text = response.get_data(as_text=True)
    assert "Bedankt, je cijfers zijn geteld." in text
    assert "Jouw cijfers: Mignolet 7, Nicky Hayen 9" in text
    assert 'class="poll-ratings-form"' not in text
    assert "1 beoordeling" in text
    db.rollback()
    assert sorted(db.scalars(select(PlayerRating.score)).all()) == [7, 9]
    assert_no_drift(app)


def test_article_page_rates_a_lineup_without_javascript(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    article = make_article()
    poll = ratings_poll(db, article)
    keeper, captain = player_ids(poll)[:2]
    url = f"/artikels/{article.cms_id}/peilingen/{poll.id}"
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert 'class="poll-ratings-form"' in page
    assert client.post(url, data={f"score-{keeper}": "0"}).status_code == 303
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Geef minstens één speler een cijfer" in page
    # A refused form keeps what was chosen.
    assert (
        client.post(url, data={f"score-{keeper}": "7", f"score-{captain}": "elf"}).status_code
        == 303
    )
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Kies per speler een cijfer van 1 tot 10." in page
    assert re.search(rf'id="p{poll.id}-s{keeper}">.*?<option value="7" selected>', page, re.S)
    scores = {f"score-{keeper}": "6", f"score-{captain}": "8"}
    assert client.post(url, data=scores).status_code == 303
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Bedankt, je cijfers zijn geteld." in page
    assert "Jouw cijfers: Mignolet 6, Vanaken 8" in page
    client.post(url, data={f"score-{keeper}": "1"})
    db.rollback()
    assert len(db.scalars(select(Ballot).where(Ballot.poll_id == poll.id)).all()) == 1
    assert_no_drift(app)


# ---------------------------------------------------------------- /redactie/


def test_editor_enters_a_lineup_and_a_refusal_keeps_what_was_typed(
    client: FlaskClient, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    article = make_article()
    editor = make_user(Role.EDITOR)
    login(client, editor)
    url = f"/redactie/artikels/{article.cms_id}/spelersbeoordelingen/nieuw"
    page = client.get(url).get_data(as_text=True)
    assert 'name="player_29_name"' in page and 'name="coach"' in page
    form = {
        "question": "Cijfers voor Union",
        "player_0_number": "1",
        "player_0_name": "Moris",
        "player_0_role": "starter",
        # Row 2 left empty: skipped.
        "player_2_number": "1",
        "player_2_name": "Vanzeir",
        "player_2_role": "substitute",
        "coach": "Sébastien Pocognoli",
        "voter_scope": "everyone",
        "results_visibility": "always",
    }
    refused = client.post(url, data=form)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Rugnummer 1 staat al bij speler 1." in html
    assert re.search(r'id="player_2_number-error"[^>]*>[^<]*Rugnummer 1 staat al', html)
    assert 'value="Vanzeir"' in html and 'value="Sébastien Pocognoli"' in html
    assert 'value="Cijfers voor Union"' in html
    form["player_2_number"] = "13"
    created = client.post(url, data=form)
    assert created.status_code == 303
    db.rollback()
    poll = db.scalars(select(Poll).where(Poll.article_id == article.id)).one()
    assert poll.kind is PollKind.PLAYER_RATINGS
    assert [(p.shirt_number, p.name, p.role.value) for p in poll.players] == [
        (1, "Moris", "starter"),
        (13, "Vanzeir", "substitute"),
        (None, "Sébastien Pocognoli", "coach"),
    ]
    # The edit page shows the fixed line-up and still changes the closing time.
    edit = client.get(f"/redactie/peilingen/{poll.id}").get_data(as_text=True)
    assert "de opstelling ligt vast" in edit and "13 Vanzeir (wissel)" in edit
    assert 'name="option_0"' not in edit
    saved = client.post(
        f"/redactie/peilingen/{poll.id}",
        data={
            "question": "Cijfers voor Union",
            "max_choices": "1",
            "voter_scope": "everyone",
            "results_visibility": "after_close",
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)
    db.rollback()
    db.expire_all()
    edited = db.get(Poll, poll.id)
    assert edited.results_visibility.value == "after_close" and len(edited.players) == 3


# ---------------------------------------------------------------- recount and account deletion


def test_recount_repairs_player_counters(
    app: Flask, db: Session, make_article: Callable[..., Article]
) -> None:
    poll = ratings_poll(db, make_article())
    keeper = poll.players[0].id
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash=None, ip_allowance=0)
        cast_ratings(session, poll.id, {keeper: 6}, Voter("a:1"), context, utcnow())
        session.commit()
        session.execute(
            update(PollPlayer)
            .where(PollPlayer.id == keeper)
            .values(rating_count=40, rating_sum=3, score_6=0, score_2=5)
        )
        session.commit()
        drifts = {(d.counter, d.key, d.stored, d.actual) for d in recount(session)}
        session.commit()
        assert ("poll_players.rating_count", str(keeper), 40, 1) in drifts
        assert ("poll_players.rating_sum", str(keeper), 3, 6) in drifts
        assert ("poll_players.score_6", str(keeper), 0, 1) in drifts
        assert ("poll_players.score_2", str(keeper), 5, 0) in drifts
        assert stored(session) == actual(session)
        assert recount(session) == []
    finally:
        session.close()


def test_gdpr_export_lists_the_members_ratings(
    app: Flask, client: FlaskClient, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    from privacy.export import export_user_data

    poll = ratings_poll(db, make_article())
    fan = make_user()
    keeper = poll.players[0].id
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash=None, ip_allowance=0)
        cast_ratings(session, poll.id, {keeper: 9}, Voter(f"u:{fan.id}", fan.id), context, utcnow())
        session.commit()
        export = export_user_data(session, session.get(User, fan.id))
    finally:
        session.close()
    (ballot,) = export["ballots"]
    assert ballot["ratings"] == [{"player": "Mignolet", "shirt_number": 22, "score": 9}]


def test_a_dropped_anonymous_set_leaves_the_player_counters_on_sign_in(
    app: Flask, db: Session, make_article: Callable[..., Article], make_user
) -> None:
    poll = ratings_poll(db, make_article())
    keeper = poll.players[0].id
    fan = make_user()
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        context = VoteContext(ip_hash=None, ip_allowance=0)
        cast_ratings(session, poll.id, {keeper: 8}, Voter(f"u:{fan.id}", fan.id), context, utcnow())
        cast_ratings(session, poll.id, {keeper: 2}, Voter("a:before-login"), context, utcnow())
        session.commit()
        result = claim_anonymous_ballots(session, fan.id, {poll.id: "a:before-login"})
        session.commit()
        assert [d.poll_id for d in result.dropped] == [poll.id]
        counters = stored(session)[keeper]
        assert counters[:2] == [1, 8] and counters[2 + 1] == 0
        assert stored(session) == actual(session)
        assert session.scalars(select(PlayerRating.score)).all() == [8]
    finally:
        session.close()


# ---------------------------------------------------------------- Hypothesis

ACTIONS = ("rate", "rate_member", "quarantine", "release", "delete_account", "claim")


@pytest.fixture
def world(app: Flask, db: Session, make_user, make_article) -> dict[str, Any]:
    polls = [ratings_poll(db, make_article(cms_id)) for cms_id in ("club-anderlecht", "ku-genk")]
    return {
        "polls": [(p.id, [pl.id for pl in p.players]) for p in polls],
        "fans": [make_user().id for _ in range(3)],
        "voters": itertools.count(),
    }


def apply(session: Session, world: dict[str, Any], op: tuple[str, int, list[int]]) -> None:
    action, pick, scores = op
    now = utcnow()
    poll_id, players = world["polls"][pick % len(world["polls"])]
    context = VoteContext(ip_hash=None, ip_allowance=0)
    if action in ("rate", "rate_member"):
        ratings = {pid: s for pid, s in zip(players, scores, strict=False) if s}
        if not ratings:
            ratings = {players[pick % len(players)]: 1 + pick % 10}
        if action == "rate":
            voter = Voter(f"a:h-{next(world['voters'])}")
        else:
            user = session.get(User, world["fans"][pick % len(world["fans"])])
            if user is None or user.deleted_at is not None:
                return
            voter = Voter(f"u:{user.id}", user.id)
        cast_ratings(session, poll_id, ratings, voter, context, now)
    elif action in ("quarantine", "release"):
        ballots = session.scalars(
            select(Ballot).where(
                Ballot.quarantined_at.is_not(None)
                if action == "release"
                else Ballot.quarantined_at.is_(None)
            )
        ).all()
        if ballots:
            ballot = ballots[pick % len(ballots)]
            set_quarantine(
                session,
                ballot.poll_id,
                action == "quarantine",
                QuarantineScope.SELECTED,
                [ballot.id],
                None,
                now,
            )
    elif action == "claim":
        # A fan signs in with an anonymous rating set's cookie: it becomes theirs, or is dropped
        # (and leaves the counters) when they had rated that poll already.
        anonymous = session.scalars(
            select(Ballot).where(Ballot.voter_key.like("a:%")).order_by(Ballot.id)
        ).all()
        user = session.get(User, world["fans"][pick % len(world["fans"])])
        if anonymous and user is not None and user.deleted_at is None:
            ballot = anonymous[(pick // len(world["fans"])) % len(anonymous)]
            claim_anonymous_ballots(session, user.id, {ballot.poll_id: ballot.voter_key})
    elif action == "delete_account":
        user = session.get(User, world["fans"][pick % len(world["fans"])])
        if user is not None and user.deleted_at is None:
            delete_account(session, user, TEST_PASSWORD, CommentChoice.KEEP, now=now)


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
            st.lists(st.integers(min_value=0, max_value=10), min_size=0, max_size=5),
        ),
        min_size=1,
        max_size=15,
    )
)
def test_player_counters_equal_their_rows_after_any_sequence(
    app: Flask, world: dict[str, Any], operations: list
) -> None:
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        for op in operations:
            apply(session, world, op)
            session.commit()
        assert stored(session) == actual(session)
        for poll_id, _ in world["polls"]:
            poll = session.get(Poll, poll_id)
            counted = session.scalar(
                select(func.count())
                .select_from(Ballot)
                .where(Ballot.poll_id == poll_id, Ballot.quarantined_at.is_(None))
            )
            assert poll.ballot_count == counted
        assert recount(session) == []
        session.rollback()
    finally:
        session.close()


def test_the_openapi_document_covers_the_kind_and_the_ratings_route(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/polls/{poll_id}/ratings"]["post"]
    assert {"200", "201", "401", "404", "409", "422"} <= set(operation["responses"])
    schemas = document["components"]["schemas"]
    assert schemas["PollKind"]["enum"] == ["choice", "player_ratings", "score_prediction"]
    assert {"kind", "players", "coach"} <= set(schemas["PollIn"]["properties"])
    poll_out = set(schemas["PollOut"]["properties"])
    assert {"players", "ratings", "ratings_members", "kind"} <= poll_out
    assert schemas["PlayerScore"]["properties"]["score"]["maximum"] == 10
