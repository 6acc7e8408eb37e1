"""Write protection: CSRF tokens on forms, JSON + Origin for cookie API writes, editor tokens."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import TOKEN_USE_RESOLUTION
from models import ApiToken, Article, Role, User
from tests.conftest import TEST_PASSWORD, login

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN_CODE = re.compile(r'<code class="token">([^<]+)</code>')
ARTICLE = {"title": "Defour blijft"}
SAME_ORIGIN = {"Origin": "http://localhost"}


def reread(db: Session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what requests committed."""
    db.rollback()
    db.expire_all()


def csrf_token_from(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, "no csrf_token field on " + path
    return match.group(1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def create_token(
    client: FlaskClient,
    name: str = "CMS productie",
    scopes: tuple[str, ...] = ("articles", "polls"),
) -> str:
    """Create a token through the profile page and read it from the page, as an editor would
    (by default with the CMS's scopes, the ones the form ticks: a browser sends ticked boxes)."""
    boxes = {f"scope_{scope}": "y" for scope in scopes}
    created = client.post("/profiel/sleutels", data={"name": name, **boxes})
    assert created.status_code == 303, created.get_data(as_text=True)[:300]
    response = client.get(created.headers["Location"])  # post-redirect-get: shown once there
    assert response.headers["Cache-Control"] == "private, no-store"
    match = TOKEN_CODE.search(response.get_data(as_text=True))
    assert match, "the new token is not shown"
    return match.group(1)


def error_code(response: Any) -> str:
    return response.get_json()["error"]["code"]


# ---------------------------------------------------------------- CSRF on forms


@pytest.fixture
def csrf_app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["WTF_CSRF_ENABLED"] = True
    return app_settings


@pytest.mark.usefixtures("csrf_app_settings")
def test_login_form_without_csrf_token_is_refused_in_dutch(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = client.post("/login", data={"login": user.username, "password": TEST_PASSWORD})

    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "Je formulier is verlopen of ongeldig" in page
    assert "formulier verlopen" in page  # the code by its Dutch label (views/templating.py)
    assert "csrf_failed" not in page
    assert client.get("/profiel").status_code == 302


@pytest.mark.usefixtures("csrf_app_settings")
def test_login_form_with_its_csrf_token_works(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()
    token = csrf_token_from(client, "/login")

    response = client.post(
        "/login", data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    )

    assert response.status_code == 302
    assert client.get("/profiel").status_code == 200


@pytest.mark.usefixtures("csrf_app_settings")
def test_forged_csrf_token_is_refused(client: FlaskClient, make_user: Callable[..., User]) -> None:
    user = make_user()
    csrf_token_from(client, "/login")

    response = client.post(
        "/login",
        data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": "forged.token"},
    )

    assert response.status_code == 400


@pytest.mark.usefixtures("csrf_app_settings")
def test_logged_in_form_posts_need_the_csrf_token(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.EDITOR)
    token = csrf_token_from(client, "/login")
    client.post(
        "/login", data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    )

    refused = client.post("/profiel/sleutels", data={"name": "CMS"})
    token = csrf_token_from(client, "/profiel")
    accepted = client.post("/profiel/sleutels", data={"name": "CMS", "csrf_token": token})
    logout_refused = client.post("/uitloggen")

    assert refused.status_code == 400
    assert accepted.status_code == 303
    assert logout_refused.status_code == 400
    assert client.get("/profiel").status_code == 200


# ---------------------------------------------------------------- cookie JSON writes: type + Origin


@pytest.fixture
def editor_client(client: FlaskClient, make_user: Callable[..., User]) -> FlaskClient:
    login(client, make_user(Role.EDITOR))
    return client


def test_cookie_json_write_with_same_origin_is_accepted(
    editor_client: FlaskClient, db: Session
) -> None:
    response = editor_client.put("/api/v1/articles/x", json=ARTICLE, headers=SAME_ORIGIN)

    assert response.status_code == 201
    assert response.get_json()["title"] == "Defour blijft"
    assert db.scalar(select(Article.title).where(Article.cms_id == "x")) == "Defour blijft"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_cookie_write_needs_a_json_content_type(
    editor_client: FlaskClient, db: Session, content_type: str
) -> None:
    response = editor_client.put(
        "/api/v1/articles/x",
        data='{"title": "Defour blijft"}',
        content_type=content_type,
        headers=SAME_ORIGIN,
    )

    assert response.status_code == 415
    assert error_code(response) == "unsupported_media_type"
    assert db.scalar(select(Article).where(Article.cms_id == "x")) is None


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "https://evil.example"},
        {"Origin": "http://localhost.evil.example"},
        {"Origin": "https://localhost"},
        {"Origin": "null"},
        {"Referer": "https://evil.example/page"},
    ],
    ids=["missing", "other-site", "lookalike-host", "other-scheme", "null", "foreign-referer"],
)
def test_cookie_json_write_needs_our_origin(
    editor_client: FlaskClient, db: Session, headers: dict[str, str]
) -> None:
    response = editor_client.put("/api/v1/articles/x", json=ARTICLE, headers=headers)

    assert response.status_code == 403
    assert error_code(response) == "origin_mismatch"
    assert db.scalar(select(Article).where(Article.cms_id == "x")) is None


@pytest.mark.usefixtures("csrf_app_settings")
def test_cookie_json_write_needs_no_form_csrf_token(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(Role.EDITOR)
    token = csrf_token_from(client, "/login")
    client.post(
        "/login", data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    )

    response = client.put("/api/v1/articles/x", json=ARTICLE, headers=SAME_ORIGIN)

    assert response.status_code == 201


# ---------------------------------------------------------------- editor tokens


def test_token_registers_then_updates_an_article(
    editor_client: FlaskClient, app: Flask, db: Session
) -> None:
    token = create_token(editor_client)
    cms = app.test_client()  # no cookies: the token alone authenticates

    created = cms.put("/api/v1/articles/defour-blijft", json=ARTICLE, headers=bearer(token))
    updated = cms.put(
        "/api/v1/articles/defour-blijft",
        json={"title": "Defour blijft tot 2028", "comment_mode": "premoderated"},
        headers=bearer(token),
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.get_json()["title"] == "Defour blijft tot 2028"
    assert updated.get_json()["comment_mode"] == "premoderated"
    stored = db.scalars(select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.prefix, stored.name)
    assert token.startswith(stored.prefix)
    assert stored.last_used_at is not None


def test_token_use_is_recorded_on_reads_to_the_resolution(
    editor_client: FlaskClient, app: Flask, db: Session
) -> None:
    token = create_token(editor_client)
    cms = app.test_client()
    cms.put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))  # a write: recorded
    reread(db)
    stored = db.scalars(select(ApiToken)).one()
    first_use = stored.last_used_at
    assert first_use is not None

    # Within the resolution a read changes nothing: no write per request.
    again = cms.get("/api/v1/articles/x", headers=bearer(token))
    reread(db)
    assert again.status_code == 200
    assert db.get(ApiToken, stored.id).last_used_at == first_use

    # Older than the resolution: the read records the use, in a transaction of its own.
    db.get(ApiToken, stored.id).last_used_at = first_use - TOKEN_USE_RESOLUTION
    db.commit()
    read = cms.get("/api/v1/articles/x", headers=bearer(token))
    reread(db)
    assert read.status_code == 200
    assert db.get(ApiToken, stored.id).last_used_at > first_use


def test_token_posts_a_comment_through_the_read_first_route(
    app: Flask, db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    """Posting reads before it takes the write lock: recording the token's use must not make
    the request write early (it answered 500)."""
    make_article("tok-art")
    admin_client = app.test_client()
    login(admin_client, make_user(Role.ADMIN))
    token = create_token(admin_client, scopes=("comments",))
    cms = app.test_client()

    posted = cms.post(
        "/api/v1/articles/tok-art/comments",
        json={"body": "Een reactie van de redactie."},
        headers=bearer(token),
    )

    assert posted.status_code == 201, posted.get_data(as_text=True)
    reread(db)
    assert db.scalars(select(ApiToken.last_used_at)).one() is not None


def test_token_is_shown_once(editor_client: FlaskClient) -> None:
    token = create_token(editor_client)

    profile = editor_client.get("/profiel").get_data(as_text=True)

    assert token not in profile
    assert token[:10] in profile


@pytest.mark.usefixtures("csrf_app_settings")
def test_token_requests_need_no_origin_and_no_csrf_token(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    editor = app.test_client()
    user = make_user(Role.EDITOR)
    form_token = csrf_token_from(editor, "/login")
    editor.post(
        "/login",
        data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": form_token},
    )
    form_token = csrf_token_from(editor, "/profiel")
    editor.post(
        "/profiel/sleutels",
        data={"name": "CMS", "scope_articles": "y", "csrf_token": form_token},
    )
    page = editor.get("/profiel")
    match = TOKEN_CODE.search(page.get_data(as_text=True))
    assert match
    cms = app.test_client()

    response = cms.put(
        "/api/v1/articles/x",
        json=ARTICLE,
        headers={**bearer(match.group(1)), "Origin": "https://cms.example"},
    )

    assert response.status_code == 201


def test_revoked_token_stops_working(editor_client: FlaskClient, app: Flask, db: Session) -> None:
    token = create_token(editor_client)
    token_id = db.scalars(select(ApiToken.id)).one()
    cms = app.test_client()
    assert cms.put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token)).status_code == 201

    revoke = editor_client.post(f"/profiel/sleutels/{token_id}/intrekken")
    response = cms.put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))

    assert revoke.status_code == 303
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
    reread(db)
    assert db.get(ApiToken, token_id).revoked_at is not None  # type: ignore[union-attr]


def test_editor_cannot_revoke_someone_elses_token(
    app: Flask, editor_client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    create_token(editor_client)
    token_id = db.scalars(select(ApiToken.id)).one()
    other = app.test_client()
    login(other, make_user(Role.EDITOR))

    response = other.post(f"/profiel/sleutels/{token_id}/intrekken")

    assert response.status_code == 404
    reread(db)
    assert db.get(ApiToken, token_id).revoked_at is None  # type: ignore[union-attr]


def test_fan_cannot_create_tokens(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    login(client, make_user(Role.FAN))

    response = client.post("/profiel/sleutels", data={"name": "CMS"})

    assert response.status_code == 403
    assert db.scalars(select(ApiToken)).all() == []


def test_token_of_a_user_demoted_to_fan_no_longer_works(
    editor_client: FlaskClient, app: Flask, db: Session
) -> None:
    token = create_token(editor_client)
    owner = db.scalars(select(User).where(User.role == Role.EDITOR)).one()
    owner.role = Role.FAN
    db.commit()

    response = app.test_client().put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_token_of_a_deactivated_user_no_longer_works(
    editor_client: FlaskClient, app: Flask, db: Session
) -> None:
    token = create_token(editor_client)
    owner = db.scalars(select(User).where(User.role == Role.EDITOR)).one()
    owner.is_active = False
    db.commit()

    response = app.test_client().put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer trb_not-a-real-token",
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Token trb_abc",
        "trb_abc",
    ],
)
def test_bad_authorization_header_is_401(
    client: FlaskClient, db: Session, authorization: str
) -> None:
    response = client.put(
        "/api/v1/articles/x", json=ARTICLE, headers={"Authorization": authorization}
    )

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
    assert db.scalar(select(Article).where(Article.cms_id == "x")) is None


def test_bad_token_is_refused_on_reads_too(client: FlaskClient) -> None:
    response = client.get("/api/v1/articles/x", headers=bearer("trb_not-a-real-token"))

    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_token_decides_even_when_a_session_cookie_comes_along(
    editor_client: FlaskClient, app: Flask, make_user: Callable[..., User]
) -> None:
    # Flask-Login's request_loader gives the token's user; the fan's cookie session is not read
    # on a token request (nor written back).
    token = create_token(editor_client)
    fan_browser = app.test_client()
    login(fan_browser, make_user(Role.FAN))

    response = fan_browser.put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))

    assert response.status_code == 201
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_tokens_do_not_open_pages(editor_client: FlaskClient, app: Flask) -> None:
    token = create_token(editor_client)

    response = app.test_client().get("/profiel", headers=bearer(token))

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_a_token_request_is_the_tokens_user_whatever_remember_me_cookie_comes_along(
    editor_client: FlaskClient, app: Flask, make_user: Callable[..., User]
) -> None:
    # The token decides (never the cookie's user without the cookie write checks), and the
    # remember-me cookie sent along is neither used nor rotated.
    token = create_token(editor_client)
    browser = app.test_client()
    fan = make_user(Role.FAN)
    browser.post(
        "/login", data={"login": fan.username, "password": TEST_PASSWORD, "remember": "on"}
    )
    remembered = browser.get_cookie("tribune_remember")
    assert remembered is not None
    browser.delete_cookie("session")

    response = browser.put("/api/v1/articles/x", json=ARTICLE, headers=bearer(token))

    assert response.status_code == 201  # an editor's write: the fan could not have made it
    assert not any("tribune_remember" in h for h in response.headers.getlist("Set-Cookie"))
    browser.delete_cookie("session")
    assert browser.get("/profiel").status_code == 200  # the cookie still restores the fan
