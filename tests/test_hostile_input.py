"""Hostile input shapes never reach a 500 (issue 15, point 3 and the article id of point 8).

The shapes that once did: JSON nested 1,000 deep (any path, even unauthenticated), a lone
surrogate in a JSON string, a huge `?pagina=`, CR/LF in `/login?next=`, an article id with a
trailing newline. Each is checked where it hit, and then sent to every route of the URL map,
as every role (anonymous, fan, moderator, editor, admin), with more shapes besides:
wrong JSON types, U+0000 in forms, numbers beyond 64 bits, very long text.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from app import create_app
from articles.services import validate_article_id
from db import make_engine
from errors import Invalid
from forms.base import json_formdata
from models import Article, Comment, CommentState, Role, User
from parsing import PAGE_MAX, page_number
from tests.conftest import login
from tests.factories import create_comment
from tests.polls_fixtures import create_poll
from tests.test_permissions import PARAMETER, url_map_app

DEEP_JSON = "[" * 1000 + "]" * 1000
DEEP_OBJECT = '{"a":' * 1000 + "1" + "}" * 1000
# A JSON escape for a lone surrogate: valid JSON, but no UTF-8 encoding exists for it.
SURROGATE = "\\ud800"
HUGE_PAGE = "9" * 30
CRLF_NEXT = "/profiel\r\nSet-Cookie: x=1"
ORIGIN = {"Origin": "http://localhost"}


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == code


# --- JSON nested too deeply ---


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECT], ids=["list", "object"])
def test_deep_json_on_the_api_is_400_invalid_json(
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    body: str,
) -> None:
    article = make_article()
    login(client, make_user())

    response = client.post(
        f"/api/v1/articles/{article.cms_id}/comments",
        data=body,
        content_type="application/json",
        headers=ORIGIN,
    )

    assert_error(response, 400, "invalid_json")


def test_deep_json_unauthenticated_on_a_page_is_no_500(client: FlaskClient) -> None:
    response = client.post("/login", data=DEEP_JSON, content_type="application/json")

    assert response.status_code < 500


def test_deep_json_on_any_path(client: FlaskClient) -> None:
    response = client.post("/bestaat-niet", data=DEEP_JSON, content_type="application/json")

    assert response.status_code == 404


# --- lone surrogates ---


def test_a_lone_surrogate_in_a_comment_body_is_422_invalid_text(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())

    response = client.post(
        f"/api/v1/articles/{article.cms_id}/comments",
        data=f'{{"body": "Goal{SURROGATE}!"}}',
        content_type="application/json",
        headers=ORIGIN,
    )

    assert_error(response, 422, "invalid_text")
    assert "surrogaat" in response.get_json()["error"]["message"]
    db.rollback()
    assert db.scalars(select(Comment)).all() == []


@pytest.mark.parametrize("field", ["body", "note", "voter_token", "option_id"])
def test_a_lone_surrogate_anywhere_in_a_json_body_is_refused(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    field: str,
) -> None:
    """Edit, report note and voter token: the one check at the door covers every route."""
    article = make_article()
    author = make_user()
    comment = create_comment(db, article, author, CommentState.PUBLISHED)
    poll = create_poll(db, article)
    db.commit()
    login(client, author)
    body = f'{{"{field}": "x{SURROGATE}"}}'
    paths = [
        ("PATCH", f"/api/v1/comments/{comment.id}"),
        ("POST", f"/api/v1/comments/{comment.id}/reports"),
        ("POST", f"/api/v1/polls/{poll.id}/votes"),
    ]

    for method, path in paths:
        response = client.open(
            path, method=method, data=body, content_type="application/json", headers=ORIGIN
        )
        assert_error(response, 422, "invalid_text")


def test_a_lone_surrogate_in_a_key_is_refused(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/articles/x/comments",
        data=f'{{"{SURROGATE}": 1}}',
        content_type="application/json",
        headers=ORIGIN,
    )

    assert_error(response, 422, "invalid_text")


# --- page numbers ---


@pytest.mark.parametrize(
    ("text", "page"),
    [
        (None, 1),
        ("", 1),
        ("3", 3),
        ("0", 1),
        ("-4", 1),
        ("+4", 1),
        ("٣", 1),
        ("abc", 1),
        (HUGE_PAGE, 1),
        ("9" * 20, PAGE_MAX),
        (str(PAGE_MAX + 1), PAGE_MAX),
    ],
)
def test_page_number_is_clamped(text: str | None, page: int) -> None:
    assert page_number(text) == page


@pytest.mark.parametrize("value", [HUGE_PAGE, "9" * 20, "-9999999999999999999"])
@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/artikels/{article}"),
        (Role.MODERATOR, "/moderatie/"),
        (Role.ADMIN, "/beheer/"),
    ],
)
def test_a_huge_page_number_gets_a_page(
    client: FlaskClient,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    role: Role | None,
    path: str,
    value: str,
) -> None:
    article = make_article()
    if role is not None:
        login(client, make_user(role))

    response = client.get(path.format(article=article.cms_id), query_string={"pagina": value})

    assert response.status_code == 200


# --- the login redirect ---


@pytest.mark.parametrize("target", [CRLF_NEXT, "/profiel\n", "/profiel\r", "/\x7f", "/pro\tfiel"])
def test_control_characters_in_next_go_home(
    client: FlaskClient, make_user: Callable[..., User], target: str
) -> None:
    user = make_user()

    response = client.post(
        "/login", query_string={"next": target}, data={"login": user.username, "password": "x"}
    )
    assert response.status_code < 500
    login(client, user)
    logged_in = client.get("/login", query_string={"next": target})

    assert logged_in.status_code == 302
    assert logged_in.headers["Location"] == "/"


def test_a_local_next_is_still_followed(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    login(client, make_user())

    response = client.get("/login", query_string={"next": "/profiel"})

    assert response.headers["Location"] == "/profiel"


# --- article ids ---


@pytest.mark.parametrize("article_id", ["nl-test\n", "nl-test\r\n", "\nnl-test", "nl test"])
def test_an_article_id_must_match_in_full(article_id: str) -> None:
    with pytest.raises(Invalid):
        validate_article_id(article_id)


def test_an_article_id_with_a_trailing_newline_is_not_created(
    client: FlaskClient, db: Session, editor_headers: dict[str, str]
) -> None:
    response = client.put(
        "/api/v1/articles/nl-test%0A", json={"title": "Nieuwe test"}, headers=editor_headers
    )

    assert response.status_code in (404, 422)
    db.rollback()
    assert db.scalars(select(Article.cms_id)).all() == []


def test_tallies_refuse_an_id_with_a_trailing_newline(client: FlaskClient) -> None:
    response = client.get("/api/v1/tallies", query_string={"ids": "nl-test\n"})

    assert_error(response, 422, "invalid_article_id")


@pytest.fixture
def editor_headers(db: Session, make_user: Callable[..., User]) -> dict[str, str]:
    _, plain = create_api_token(
        db, editor := make_user(Role.EDITOR), "test", token_scopes_for(editor.role)
    )
    db.commit()
    return {"Authorization": f"Bearer {plain}"}


# --- the SQLite file ---


def test_the_sqlite_file_is_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "tribune.db"
    old_umask = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
        engine.dispose()
    finally:
        os.umask(old_umask)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tribune_migrate_creates_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "migrated.db"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "SECRET_KEY": "x",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    result = app.test_cli_runner().invoke(args=["tribune", "migrate"])
    app.extensions["tribune.engine"].dispose()

    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- every route, every shape, every role ---

_APP = url_map_app()
ROUTES = sorted(
    (rule.rule, method)
    for rule in _APP.url_map.iter_rules()
    if rule.endpoint != "static"
    for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
)
_APP.extensions["tribune.engine"].dispose()
# Routes that may end the visitor's own session: the walk logs in again after each, so the
# rest of the routes are still tried as that role (none is skipped).
SESSION_ENDING = {"/logout", "/uitloggen", "/profiel/overal-afmelden", "/profiel/wachtwoord"}
VISITORS: dict[str, Role | None] = {
    "anonymous": None,
    "fan": Role.FAN,
    "moderator": Role.MODERATOR,
    "editor": Role.EDITOR,
    "admin": Role.ADMIN,
}
HUGE_INT = "9" * 30
TEXT_FIELDS = [
    "body", "note", "voter_token", "title", "reason", "decision_note", "name", "question",
    "login", "username", "email", "password", "term", "label", "q", "zoek",
]  # fmt: skip


def fill(path: str, text_value: str, int_value: str) -> str:
    """Ints as `int_value` (a real row id, or a huge one); text parameters as `text_value`."""

    def one(match: Any) -> str:
        return int_value if match.group(1) == "int" else text_value

    return PARAMETER.sub(one, path)


def shaped_request(shape: str, method: str) -> dict[str, Any]:
    """The request of one hostile shape for one route."""
    if shape == "deep_json":
        return {"data": DEEP_JSON, "content_type": "application/json", "headers": ORIGIN}
    if shape == "surrogate_json":
        body = "{" + ",".join(f'"{f}": "a{SURROGATE}"' for f in TEXT_FIELDS) + "}"
        return {"data": body, "content_type": "application/json", "headers": ORIGIN}
    if shape == "wrong_types_json":
        # Every field the wrong JSON type: objects for strings, strings for ids, huge ints.
        body = {f: {"x": [1]} for f in TEXT_FIELDS} | {
            "option_id": "een",
            "option_ids": [int(HUGE_INT)],
            "state": 7,
            "scopes": "alles",
            "closes_at": "gisteren",
            "role": ["admin"],
        }
        return {"json": body, "headers": ORIGIN}
    if shape == "huge_page":
        return {"query_string": {"pagina": HUGE_PAGE, "page": HUGE_PAGE, "limit": HUGE_PAGE}}
    if shape == "crlf_next":
        form = {"next": CRLF_NEXT, "back": CRLF_NEXT, "body": "Goed gespeeld\r\n"}
        return {
            "query_string": {"next": CRLF_NEXT},
            **({"data": form} if method != "GET" else {}),
        }
    if shape == "nul_form":
        form = {f: "a\x00b" for f in TEXT_FIELDS}
        return {"query_string": {"q": "a\x00"}, **({"data": form} if method != "GET" else {})}
    if shape == "huge_numbers_form":
        # Ids and numbers in forms and queries beyond any 64-bit column.
        numbers = ["option_id", "poll_id", "comment_id", "user_id", "days", "hours", "minutes",
                   "duration", "max_per_voter", "ids", "pagina", "role", "state"]  # fmt: skip
        form = {name: HUGE_INT for name in numbers}
        return {"query_string": form, **({"data": form} if method != "GET" else {})}
    if shape == "long_text_form":
        form = {f: "goal " * 40_000 for f in TEXT_FIELDS}
        return {"data": form} if method != "GET" else {"query_string": {"q": "x" * 8_000}}
    raise AssertionError(shape)


SHAPES = [
    "deep_json",
    "surrogate_json",
    "wrong_types_json",
    "huge_page",
    "crlf_next",
    "nul_form",
    "huge_numbers_form",
    "long_text_form",
    "newline_id",
    "huge_int_id",
]


@pytest.mark.parametrize("visitor", list(VISITORS))
@pytest.mark.parametrize("shape", SHAPES)
def test_no_route_answers_500_to_a_hostile_shape(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    shape: str,
    visitor: str,
) -> None:
    """Every route of the URL map (API, pages and forms), as each role, with each shape."""
    app.config["PROPAGATE_EXCEPTIONS"] = False
    article = make_article("fuzz")
    fan = make_user()
    comment = create_comment(db, article, fan, CommentState.PUBLISHED)
    create_poll(db, article)
    db.commit()
    role = VISITORS[visitor]
    person = make_user(role) if role is not None and role is not Role.FAN else fan
    client = app.test_client()
    headers: dict[str, str] = {}
    if role is not None:
        login(client, person)
    if role is Role.EDITOR:
        _, plain = create_api_token(db, person, "fuzz")
        db.commit()
        headers = {"Authorization": f"Bearer {plain}"}
    int_value = HUGE_INT if shape == "huge_int_id" else str(comment.id)
    text_value = "nl-test%0A" if shape == "newline_id" else article.cms_id
    failures = []

    for rule, method in ROUTES:
        path = fill(rule, text_value, int_value)
        if shape in ("newline_id", "huge_int_id"):
            kwargs: dict[str, Any] = {"json": {"title": "x"}, "headers": dict(ORIGIN)}
        else:
            kwargs = shaped_request(shape, method)
        kwargs["headers"] = {**kwargs.get("headers", {}), **headers}
        response = client.open(path, method=method, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {path}: {response.status_code}")
        if role is not None and rule in SESSION_ENDING:
            client = app.test_client()
            login(client, person)

    assert failures == []
    assert len(ROUTES) > 50


# --- JSON sent to a page's form ---


@pytest.mark.parametrize(
    ("body", "pairs"),
    [
        ({"login": "fan", "remember": True}, [("login", "fan"), ("remember", "y")]),
        ({"login": {"x": 1}, "password": None, "remember": False}, []),
        (
            {"option_id": 3, "ids": [1, "2", {"a": 1}]},
            [("option_id", "3"), ("ids", "1"), ("ids", "2")],
        ),
        ([["login", "fan"]], []),
        ("login=fan", []),
    ],
)
def test_json_becomes_form_text(body: object, pairs: list[tuple[str, str]]) -> None:
    assert list(json_formdata(body).items(multi=True)) == pairs


def test_a_page_form_given_json_objects_answers_beside_the_fields(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """`{"login": {}}` once reached `.strip()` on a dict: a 500 on /login and /registreren."""
    response = client.post(
        "/registreren",
        json={"username": {"a": 1}, "email": ["x"], "password": {}, "password_repeat": {}},
    )

    assert response.status_code == 422
    assert "Vul dit veld in." in response.get_data(as_text=True)
