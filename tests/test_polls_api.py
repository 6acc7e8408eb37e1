"""Poll API: create, read, vote; every status code and validation path of docs/design.md."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Article, Poll, ResultsVisibility, Role, User, VoterScope
from tests.conftest import login
from tests.polls_fixtures import (
    SAME_ORIGIN,
    assert_no_drift,
    audit_rows,
    ballots,
    error_code,
    future,
    make_poll_fixture,  # noqa: F401
    option_ids,
    past,
    vote,
    voter_token,
)


def _bearer(db: Session, user: User) -> dict[str, str]:
    from accounts.services import create_api_token, token_scopes_for

    _, token = create_api_token(db, user, "test", token_scopes_for(user.role))
    db.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def editor_headers(db: Session, make_user: Callable[..., User]) -> dict[str, str]:
    return _bearer(db, make_user(Role.EDITOR))


POLL = {
    "question": "Moet KVM verder doen met Defour?",
    "options": ["Ja", "Nee", "Weet niet"],
}


# ---------------------------------------------------------------- create


def test_editor_token_creates_a_poll_with_audit(
    client: FlaskClient, db: Session, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls",
        json={**POLL, "closes_at": future(days=2).isoformat(), "max_choices": 2},
        headers=editor_headers,
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["state"] == "open"
    assert [o["label"] for o in body["options"]] == POLL["options"]
    assert body["max_choices"] == 2
    assert response.headers["Location"] == f"/api/v1/polls/{body['id']}"
    assert [row.action for row in audit_rows(db, "poll")] == ["create_poll"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({**POLL, "options": ["Ja"]}, "options"),
        ({**POLL, "options": [f"o{i}" for i in range(11)]}, "options"),
        ({**POLL, "options": ["Ja", "ja"]}, "options"),
        ({**POLL, "question": ""}, "question"),
        ({**POLL, "question": "x" * 301}, "question"),
        ({**POLL, "max_choices": 4}, "max_choices"),
        ({**POLL, "max_choices": 0}, "max_choices"),
        ({**POLL, "opens_at": "2030-01-01T10:00:00"}, "opens_at"),
        ({**POLL, "closes_at": "2020-01-01T10:00:00Z"}, "closes_at"),
        (
            {**POLL, "opens_at": "2031-01-02T10:00:00Z", "closes_at": "2031-01-01T10:00:00Z"},
            "closes_at",
        ),
        ({**POLL, "results_visibility": "sometimes"}, "results_visibility"),
        ({**POLL, "voter_scope": "vips"}, "voter_scope"),
        ({**POLL, "colour": "red"}, "colour"),
    ],
)
def test_create_validation(
    client: FlaskClient,
    make_article: Callable[..., Article],
    editor_headers: dict,
    payload: dict,
    field: str,
) -> None:
    article = make_article()
    response = client.post(
        f"/api/v1/articles/{article.cms_id}/polls", json=payload, headers=editor_headers
    )
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == "validation_failed"
    assert any(field in key for key in response.get_json()["error"]["details"]["fields"])


def test_create_on_unknown_article_is_404(client: FlaskClient, editor_headers: dict) -> None:
    response = client.post("/api/v1/articles/bestaat-niet/polls", json=POLL, headers=editor_headers)
    assert response.status_code == 404
    assert error_code(response) == "article_not_found"


def test_create_needs_an_editor(
    client: FlaskClient, make_article: Callable[..., Article], make_user: Callable[..., User]
) -> None:
    article = make_article()
    url = f"/api/v1/articles/{article.cms_id}/polls"
    assert client.post(url, json=POLL, headers=SAME_ORIGIN).status_code == 401
    login(client, make_user(Role.FAN))
    response = client.post(url, json=POLL, headers=SAME_ORIGIN)
    assert response.status_code == 403


def test_create_needs_json(
    client: FlaskClient, make_article: Callable[..., Article], editor_headers: dict
) -> None:
    article = make_article()
    url = f"/api/v1/articles/{article.cms_id}/polls"
    response = client.post(url, data="question=x", headers=editor_headers)
    assert response.status_code == 415
    response = client.post(
        url, data="{broken", headers={**editor_headers, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


# ---------------------------------------------------------------- read


def test_get_poll_is_private_and_shows_results(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    response = client.get(f"/api/v1/polls/{poll.id}")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    body = response.get_json()
    assert body["state"] == "open"
    assert body["results"]["total"] == 0
    assert body["own_ballot"] is None
    assert "stats" not in body


def test_unknown_poll_is_404(client: FlaskClient) -> None:
    assert client.get("/api/v1/polls/999999").status_code == 404
    assert error_code(vote(client, 999999, [1], "x")) in ("poll_not_found", "invalid_voter_token")


# ---------------------------------------------------------------- vote


def test_anonymous_vote_then_repeat_returns_the_same_ballot(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    ids = option_ids(poll)
    token = voter_token(client, poll.id)

    first = vote(client, poll.id, [ids[0]], token)
    again = vote(client, poll.id, [ids[1]], token)

    assert first.status_code == 201, first.get_json()
    assert first.get_json()["counted"] is True
    assert again.status_code == 200
    assert again.get_json()["counted"] is False
    assert again.get_json()["ballot"] == first.get_json()["ballot"]
    assert again.get_json()["ballot"]["option_ids"] == [ids[0]]
    assert first.headers["Cache-Control"] == "private, no-store"
    rows = ballots(db, poll.id)
    assert len(rows) == 1 and rows[0].voter_key.startswith("a:")
    results = client.get(
        f"/api/v1/polls/{poll.id}", headers={"X-Tribune-Voter-Token": token}
    ).get_json()
    assert results["own_ballot"]["option_ids"] == [ids[0]]
    assert results["results"]["options"][0]["votes"] == 1
    assert results["results"]["options"][0]["percent"] == 100
    assert_no_drift(app)


def test_logged_in_fan_votes_with_the_session(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    poll = make_poll(voter_scope=VoterScope.LOGGED_IN)
    fan = make_user(Role.FAN)
    ids = option_ids(poll)
    assert error_code(vote(client, poll.id, [ids[0]])) == "login_required"
    login(client, fan)
    response = vote(client, poll.id, [ids[0]])
    assert response.status_code == 201
    assert vote(client, poll.id, [ids[1]]).status_code == 200
    rows = ballots(db, poll.id)
    assert [(r.voter_key, r.user_id) for r in rows] == [(f"u:{fan.id}", fan.id)]
    members = client.get(f"/api/v1/polls/{poll.id}").get_json()["results_members"]
    assert members["total"] == 1
    assert_no_drift(app)


def test_logged_in_only_poll_refuses_anonymous_tokens(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(voter_scope=VoterScope.LOGGED_IN)
    response = client.post(f"/api/v1/polls/{poll.id}/voter-token", json={}, headers=SAME_ORIGIN)
    assert response.status_code == 401
    assert error_code(response) == "login_required"


def test_anonymous_vote_without_token_is_401(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    response = vote(client, poll.id, option_ids(poll)[:1])
    assert response.status_code == 401
    assert error_code(response) == "voter_token_required"


@pytest.mark.parametrize(
    ("choice", "code"),
    [
        ([], "invalid_options"),
        ("1", "invalid_options"),
        ([True], "invalid_options"),
        (["1"], "invalid_options"),
        ([999999], "invalid_options"),
        ("dup", "invalid_options"),
        ("two", "too_many_choices"),
        (None, "invalid_options"),
    ],
)
def test_vote_validation_is_422(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    choice: Any,
    code: str,
) -> None:
    poll = make_poll()
    ids = option_ids(poll)
    if choice == "dup":
        choice = [ids[0], ids[0]]
    elif choice == "two":
        choice = ids[:2]
    token = voter_token(client, poll.id)
    response = vote(client, poll.id, choice, token)
    assert response.status_code == 422, response.get_json()
    assert error_code(response) == code
    assert ballots(db, poll.id) == []
    assert_no_drift(app)


def test_option_of_another_poll_is_invalid(
    client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll, other = make_poll(), make_poll()
    token = voter_token(client, poll.id)
    response = vote(client, poll.id, option_ids(other)[:1], token)
    assert response.status_code == 422
    assert error_code(response) == "invalid_options"


def test_multiple_choice_up_to_the_maximum(
    app: Flask, client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(options=("A", "B", "C", "D"), max_choices=2)
    ids = option_ids(poll)
    response = vote(client, poll.id, [ids[2], ids[0]], voter_token(client, poll.id))
    assert response.status_code == 201
    assert response.get_json()["ballot"]["option_ids"] == [ids[0], ids[2]]
    over = vote(client, poll.id, ids[:3], voter_token(client, poll.id))
    assert over.status_code == 422 and error_code(over) == "too_many_choices"
    body = client.get(f"/api/v1/polls/{poll.id}").get_json()
    assert [o["percent"] for o in body["results"]["options"]] == [100, 0, 100, 0]
    assert_no_drift(app)


def test_closed_poll_is_409(
    client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    token = voter_token(client, poll.id)
    poll.closes_at = past(minutes=1)
    db.commit()
    response = vote(client, poll.id, option_ids(poll)[:1], token)
    assert response.status_code == 409
    assert error_code(response) == "poll_closed"
    # A closed poll issues no more tokens either.
    response = client.post(f"/api/v1/polls/{poll.id}/voter-token", json={}, headers=SAME_ORIGIN)
    assert response.status_code == 409


def test_bad_body_shapes(client: FlaskClient, make_poll: Callable[..., Poll]) -> None:
    poll = make_poll()
    url = f"/api/v1/polls/{poll.id}/votes"
    assert client.post(url, data="x", headers=SAME_ORIGIN).status_code == 415
    broken = client.post(
        url, data="[1]", headers={**SAME_ORIGIN, "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    numeric = client.post(url, json={"option_ids": [1], "voter_token": 5}, headers=SAME_ORIGIN)
    assert numeric.status_code == 422


# ---------------------------------------------------------------- provenance (widget writes)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Origin": "https://evil.example"}, 403),
        ({"Origin": "null"}, 403),
        ({}, 403),
        ({"Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-site"}, 403),
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Sec-Fetch-Site": "same-origin"}, 201),
        ({"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}, 201),
    ],
)
def test_vote_provenance(
    client: FlaskClient, make_poll: Callable[..., Poll], headers: dict, status: int
) -> None:
    poll = make_poll()
    token = voter_token(client, poll.id)
    response = client.post(
        f"/api/v1/polls/{poll.id}/votes",
        json={"option_ids": option_ids(poll)[:1]},
        headers={"X-Tribune-Voter-Token": token, **headers},
    )
    assert response.status_code == status, response.get_json()
    if status == 403:
        assert error_code(response) == "origin_mismatch"


def test_token_in_the_body_works_too(client: FlaskClient, make_poll: Callable[..., Poll]) -> None:
    poll = make_poll()
    token = voter_token(client, poll.id)
    response = client.post(
        f"/api/v1/polls/{poll.id}/votes",
        json={"option_ids": option_ids(poll)[:1], "voter_token": token},
        headers=SAME_ORIGIN,
    )
    assert response.status_code == 201


# ---------------------------------------------------------------- visibility


@pytest.mark.parametrize(
    ("rule", "before_vote", "after_vote", "after_close"),
    [
        (ResultsVisibility.ALWAYS, True, True, True),
        (ResultsVisibility.AFTER_VOTE, False, True, True),
        (ResultsVisibility.AFTER_CLOSE, False, False, True),
        (ResultsVisibility.NEVER, False, False, False),
    ],
)
def test_results_visibility(
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    editor_headers: dict,
    rule: ResultsVisibility,
    before_vote: bool,
    after_vote: bool,
    after_close: bool,
) -> None:
    poll = make_poll(results_visibility=rule)
    token = voter_token(client, poll.id)
    header = {"X-Tribune-Voter-Token": token}
    url = f"/api/v1/polls/{poll.id}"
    assert (client.get(url, headers=header).get_json()["results"] is not None) is before_vote
    voted = vote(client, poll.id, option_ids(poll)[:1], token).get_json()
    assert (voted["poll"]["results"] is not None) is after_vote
    assert (client.get(url, headers=header).get_json()["results"] is not None) is after_vote
    # Someone who has not voted sees them only when always.
    assert (client.get(url).get_json()["results"] is not None) is before_vote
    response = client.patch(url, json={"state": "closed"}, headers=editor_headers)
    assert response.status_code == 200, response.get_json()
    assert (client.get(url).get_json()["results"] is not None) is after_close
    # Editors always see the stand and the counts.
    editor_view = client.get(url, headers=editor_headers).get_json()
    assert editor_view["results"]["total"] == 1
    assert editor_view["stats"]["counted"] == 1


@pytest.mark.parametrize("field", ["question", "options", "max_choices"])
def test_patch_refuses_null_where_a_poll_needs_a_value(
    client: FlaskClient, make_poll: Callable[..., Poll], editor_headers: dict, field: str
) -> None:
    poll = make_poll()

    response = client.patch(f"/api/v1/polls/{poll.id}", json={field: None}, headers=editor_headers)

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "validation_failed"
    assert field in response.get_json()["error"]["details"]["fields"]


def test_patch_edits_question_and_options_and_clears_closes_at(
    client: FlaskClient, make_poll: Callable[..., Poll], editor_headers: dict
) -> None:
    poll = make_poll()

    response = client.patch(
        f"/api/v1/polls/{poll.id}",
        json={"question": "Wie wint?", "options": ["KVM", "Lier"], "closes_at": None},
        headers=editor_headers,
    )

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["question"] == "Wie wint?"
    assert [option["label"] for option in body["options"]] == ["KVM", "Lier"]
    assert body["closes_at"] is None
