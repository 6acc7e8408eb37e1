"""One error shape: {"error": {"code", "message"}} on the API, Dutch HTML pages elsewhere."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Blueprint, Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from errors import STATUS_ERRORS
from models import Article, Role, User
from tests.conftest import TEST_PASSWORD, login
from tests.polls_fixtures import create_poll, vote, voter_token

ACCEPT_JSON = {"Accept": "application/json"}


def reread(db: Session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what requests committed."""
    db.rollback()
    db.expire_all()


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert set(error) <= {"code", "message", "details"}
    return error


@pytest.fixture
def editor_token(db: Session, make_user: Callable[..., User]) -> dict[str, str]:
    user = make_user(Role.EDITOR)
    _, plain = create_api_token(db, user, "tests", token_scopes_for(user.role))
    db.commit()
    return {"Authorization": f"Bearer {plain}"}


# ---------------------------------------------------------------- real routes, per status


def test_400_broken_json_body(client: FlaskClient, editor_token: dict[str, str]) -> None:
    response = client.put(
        "/api/v1/articles/x",
        data='{"title": "Defour',
        content_type="application/json",
        headers=editor_token,
    )

    assert_error(response, 400, "invalid_json")


def test_401_without_credentials(client: FlaskClient) -> None:
    response = client.put(
        "/api/v1/articles/x", json={"title": "T"}, headers={"Origin": "http://localhost"}
    )

    assert_error(response, 401, "login_required")


def test_401_invalid_token(client: FlaskClient) -> None:
    response = client.put(
        "/api/v1/articles/x", json={"title": "T"}, headers={"Authorization": "Bearer nope"}
    )

    assert_error(response, 401, "invalid_token")


def test_403_fan_writes(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user(Role.FAN))

    response = client.put(
        "/api/v1/articles/x", json={"title": "T"}, headers={"Origin": "http://localhost"}
    )

    assert_error(response, 403, "forbidden")


def test_404_unknown_article(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/articles/bestaat-niet"), 404, "article_not_found")


def test_404_unknown_api_path(client: FlaskClient) -> None:
    assert_error(client.get("/api/v1/bestaat-niet"), 404, "not_found")


# Ids beyond any row (ids are INTEGER columns, 32-bit on PostgreSQL): the route's own 404,
# never the driver's bind error (it answered 500).
HUGE = [2**31, 10**25]


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    ("method", "path", "code"),
    [
        ("GET", "/api/v1/polls/{}", "poll_not_found"),
        ("POST", "/api/v1/polls/{}/voter-token", "poll_not_found"),
        ("POST", "/api/v1/comments/{}/reports", "comment_not_found"),
        ("GET", "/embed/polls/{}", "poll_not_found"),
    ],
)
def test_404_for_an_id_beyond_any_row_in_the_path(
    client: FlaskClient,
    make_user: Callable[..., User],
    method: str,
    path: str,
    code: str,
    number: int,
) -> None:
    login(client, make_user())
    response = client.open(
        path.format(number),
        method=method,
        json={"reason": "spam"} if method == "POST" else None,
        headers={**ACCEPT_JSON, "Origin": "http://localhost"},
    )

    assert_error(response, 404, code)


@pytest.mark.parametrize("number", [*HUGE, -(2**64) - 1])
def test_body_ids_beyond_any_row_are_clear_errors(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    number: int,
) -> None:
    article = make_article("ids")
    poll = create_poll(db, article)
    login(client, make_user())
    token = voter_token(client, poll.id)

    reply = client.post(
        "/api/v1/articles/ids/comments",
        json={"body": "Een antwoord op niets.", "parent_id": number},
        headers={"Origin": "http://localhost"},
    )
    ballot = vote(client, poll.id, [number], token)

    assert_error(reply, 404, "parent_not_found")
    assert_error(ballot, 422, "invalid_options")


NUL = "\x00"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/v1/articles/nul/comments", {"body": f"Sterke match{NUL} gisteren."}),
        ("/api/v1/articles/nul/comments", {"body": "Sterke match.", f"x{NUL}": 1}),
        ("/api/v1/articles/nul/polls", {"question": "Wint KV?", "options": ["Ja", f"N{NUL}ee"]}),
        ("/api/v1/articles/nul", {"title": "Defour", "teaser": [[f"{NUL}"]]}),
    ],
)
def test_422_text_with_a_nul_character_in_a_json_body(
    client: FlaskClient,
    db: Session,
    editor_token: dict[str, str],
    make_article: Callable[..., Article],
    path: str,
    payload: dict[str, Any],
) -> None:
    """PostgreSQL refuses U+0000 in text (it answered 500 there); every database gets a 422."""
    make_article("nul")
    method = client.put if path == "/api/v1/articles/nul" else client.post

    response = method(path, json=payload, headers=editor_token)

    assert_error(response, 422, "invalid_text")
    reread(db)
    assert db.scalars(select(Article.title).where(Article.cms_id == "nul")).one() != "Defour"


def test_422_text_with_a_nul_character_in_a_query_string(client: FlaskClient) -> None:
    response = client.get("/api/v1/tallies", query_string={"ids": f"a{NUL}b"})

    assert_error(response, 422, "invalid_text")


def test_a_form_with_a_nul_character_gets_a_dutch_page(client: FlaskClient, db: Session) -> None:
    response = client.post(
        "/registreren",
        data={
            "username": f"Sinjoor{NUL}",
            "email": "sinjoor@example.be",
            "password": "lang genoeg wachtwoord",
            "password_confirm": "lang genoeg wachtwoord",
        },
    )

    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert "nulteken" in response.get_data(as_text=True)
    reread(db)
    assert db.scalar(select(User).where(User.email == "sinjoor@example.be")) is None


def test_405_keeps_the_allow_header(client: FlaskClient) -> None:
    response = client.delete("/api/v1/articles/x")

    assert_error(response, 405, "method_not_allowed")
    assert {"GET", "PUT"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_409_admin_changing_own_role(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    login(client, admin)

    response = client.post(
        f"/beheer/gebruikers/{admin.id}/rol", data={"role": "fan"}, headers=ACCEPT_JSON
    )

    assert_error(response, 409, "own_account")
    reread(db)
    assert db.get(User, admin.id).role is Role.ADMIN  # type: ignore[union-attr]


def test_413_body_too_large(app_settings: dict[str, Any], request: pytest.FixtureRequest) -> None:
    app_settings["MAX_CONTENT_LENGTH"] = 200
    client: FlaskClient = request.getfixturevalue("client")
    editor_token = request.getfixturevalue("editor_token")

    response = client.put(
        "/api/v1/articles/x", json={"title": "T", "body": "x" * 500}, headers=editor_token
    )

    assert_error(response, 413, "payload_too_large")


def test_415_not_json(client: FlaskClient, editor_token: dict[str, str]) -> None:
    response = client.put(
        "/api/v1/articles/x", data="title=T", content_type="text/plain", headers=editor_token
    )

    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({}, {"title"}),
        ({"title": ""}, {"title"}),
        ({"title": "T", "url": "geen url"}, {"url"}),
        ({"title": "T", "comment_mode": "soms"}, {"comment_mode"}),
        ({"title": "T", "published_at": "gisteren"}, {"published_at"}),
        ({"title": "T", "published_at": "2026-05-01T18:00:00"}, {"published_at"}),
        ({"title": "T", "onbekend": 1}, {"onbekend"}),
        (["geen", "object"], {"body"}),
    ],
)
def test_422_invalid_fields(
    client: FlaskClient,
    db: Session,
    editor_token: dict[str, str],
    payload: Any,
    fields: set[str],
) -> None:
    response = client.put("/api/v1/articles/x", json=payload, headers=editor_token)

    error = assert_error(response, 422, "validation_failed")
    assert set(error["details"]["fields"]) == fields
    assert db.scalar(select(Article).where(Article.cms_id == "x")) is None


@pytest.mark.parametrize("article_id", ["met.punt", "a,b", "x" * 65, "met%20spatie", "%C3%A9"])
@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_422_invalid_article_id(
    client: FlaskClient, editor_token: dict[str, str], article_id: str, method: str
) -> None:
    response = client.open(
        f"/api/v1/articles/{article_id}", method=method, json={"title": "T"}, headers=editor_token
    )

    assert_error(response, 422, "invalid_article_id")


def test_429_login_throttled_with_json(
    app_settings: dict[str, Any], request: pytest.FixtureRequest
) -> None:
    app_settings.update(
        TRIBUNE_RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        TRIBUNE_LOGIN_LIMIT_ACCOUNT="1 per minute",
    )
    client: FlaskClient = request.getfixturevalue("client")
    name = "fan_" + uuid.uuid4().hex[:10]  # the limiter may keep another test's key prefix
    request.getfixturevalue("make_user")(username=name)
    client.post("/login", data={"login": name, "password": "fout wachtwoord"})

    response = client.post(
        "/login", data={"login": name, "password": TEST_PASSWORD}, headers=ACCEPT_JSON
    )

    assert_error(response, 429, "rate_limited")


# ---------------------------------------------------------------- the generic mapping


@pytest.fixture
def abort_app(app: Flask) -> Flask:
    """The app plus a test-only blueprint that fails on purpose."""
    bp = Blueprint("failing", __name__, url_prefix="/api/test")

    @bp.get("/abort/<int:status>")
    def fail(status: int):  # type: ignore[no-untyped-def]
        abort(status)

    @bp.get("/crash")
    def crash():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    app.register_blueprint(bp)
    return app


@pytest.mark.parametrize("status", sorted(STATUS_ERRORS))
def test_every_status_maps_to_its_code(abort_app: Flask, status: int) -> None:
    response = abort_app.test_client().get(f"/api/test/abort/{status}")

    assert_error(response, status, STATUS_ERRORS[status][0])


def test_unexpected_error_is_a_json_500(abort_app: Flask) -> None:
    response = abort_app.test_client().get("/api/test/crash")

    error = assert_error(response, 500, "internal_error")
    assert "boom" not in error["message"]


# ---------------------------------------------------------------- pages: Dutch HTML


@pytest.mark.parametrize(
    ("path", "status", "text"),
    [
        ("/bestaat-niet", 404, "Niet gevonden"),
        ("/artikels/bestaat-niet", 404, "Dit artikel bestaat niet."),
        ("/artikels/met.punt", 404, "Niet gevonden"),
    ],
)
def test_pages_answer_dutch_html(client: FlaskClient, path: str, status: int, text: str) -> None:
    response = client.get(path)

    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<html lang="nl-BE">' in page
    assert text in page


def test_page_403_is_dutch_html(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user(Role.FAN))

    response = client.get("/beheer/")

    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Geen toegang" in response.get_data(as_text=True)


def test_page_405_is_dutch_html(client: FlaskClient) -> None:
    response = client.get("/uitloggen")

    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "Deze methode is hier niet toegestaan." in response.get_data(as_text=True)


def test_page_500_is_dutch_html(abort_app: Flask) -> None:
    bp = Blueprint("failing_page", __name__)

    @bp.get("/kapot")
    def broken():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    abort_app.register_blueprint(bp)

    response = abort_app.test_client().get("/kapot")

    assert response.status_code == 500
    assert response.mimetype == "text/html"
    assert "Er ging iets mis" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("accept", "json_expected"),
    [
        ("application/json", True),
        ("application/json, text/html;q=0.5", True),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", False),
        ("*/*", False),
        ("text/html, application/json", False),
    ],
)
def test_pages_answer_json_only_when_json_is_preferred(
    client: FlaskClient, accept: str, json_expected: bool
) -> None:
    response = client.get("/bestaat-niet", headers={"Accept": accept})

    assert response.status_code == 404
    assert (response.mimetype == "application/json") is json_expected


def test_422_an_article_url_longer_than_its_column_once_normalised(
    client: FlaskClient, editor_token: dict[str, str]
) -> None:
    # 2,000 characters as sent; pydantic adds the path's "/", which PostgreSQL would refuse.
    url = "https://" + ".".join(["b" * 63] * 32)[:1992]
    assert len(url) == 2000 and not url.endswith(".")

    response = client.put(
        "/api/v1/articles/lang", json={"title": "T", "url": url}, headers=editor_token
    )

    error = assert_error(response, 422, "validation_failed")
    assert "url" in error["details"]["fields"]
