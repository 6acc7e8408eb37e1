"""The embed-session routes: the SSO exchange, refresh, logout (and replay after it), the
popup login's POST /embed/sessie, CORS for allowed host pages, and /login refusing SSO
accounts. Request tests: they run on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import end_sessions
from app import create_app
from config import SettingError
from models import Article, SsoIdentity, User, utcnow
from tests.conftest import TEST_PASSWORD, login
from tests.factories import REJECT_TEXT

SECRET = "demo-geheim-van-de-krant-0123456789abcdef"
OTHER_SECRET = "een-heel-ander-geheim-0123456789abcdef"
HOST = "https://krant.example"


@pytest.fixture
def app_settings(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_SSO_SECRET"] = SECRET
    app_settings["EMBED_ALLOWED_ORIGINS"] = HOST
    return app_settings


def sso_token(sub: str = "lezer-1", name: str = "Jan Peeters", **extra: Any) -> str:
    now = utcnow()
    payload = {
        "sub": sub,
        "name": name,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        **extra,
    }
    return jwt.encode(payload, SECRET, algorithm="HS256")


def exchange(client: FlaskClient, token: str, origin: str = HOST) -> Any:
    return client.post(
        "/api/v1/embed/sessions", json={"sso_token": token}, headers={"Origin": origin}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_exchange_answers_an_embed_token_and_the_reader(
    client: FlaskClient, db: Session
) -> None:
    response = exchange(client, sso_token())

    assert response.status_code == 201, response.json
    body = response.json
    assert body["access_token"].startswith("tre_")
    assert body["expires_in"] == 900
    assert body["user"]["name"] == "Jan Peeters"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert db.scalar(select(SsoIdentity.subject)) == "lezer-1"


def test_the_lifetime_follows_the_setting(app: Flask) -> None:
    app.config["TRIBUNE_EMBED_SESSION_SECONDS"] = 120

    assert exchange(app.test_client(), sso_token()).json["expires_in"] == 120


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("geen.jwt.token", "sso_invalid"),
        (jwt.encode({"sub": "x", "name": "y", "exp": 1}, SECRET, algorithm="HS256"), "sso_expired"),
        (
            jwt.encode({"sub": "x", "name": "y", "exp": 9999999999}, OTHER_SECRET),
            "sso_invalid",
        ),
    ],
)
def test_a_bad_sso_token_is_401_with_the_error_shape(
    client: FlaskClient, token: str, code: str
) -> None:
    response = exchange(client, token)

    assert response.status_code == 401
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]


def test_without_a_key_sso_is_disabled(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_SSO_SECRET"] = None
    app = create_app(app_settings)

    response = exchange(app.test_client(), sso_token())
    app.extensions["tribune.engine"].dispose()

    assert response.status_code == 403
    assert response.json["error"]["code"] == "sso_disabled"


def test_refresh_gives_a_new_token_and_ends_the_old_one(client: FlaskClient) -> None:
    old = exchange(client, sso_token()).json["access_token"]

    response = client.post("/api/v1/embed/sessions/refresh", headers=bearer(old))

    assert response.status_code == 201
    new = response.json["access_token"]
    assert new != old
    again = client.post("/api/v1/embed/sessions/refresh", headers=bearer(old))
    assert again.status_code == 401
    assert again.json["error"]["code"] == "embed_session_invalid"
    assert client.post("/api/v1/embed/sessions/refresh", headers=bearer(new)).status_code == 201


def test_refresh_without_an_embed_token_is_401(client: FlaskClient) -> None:
    response = client.post("/api/v1/embed/sessions/refresh", headers=bearer("tre_onbekend"))

    assert response.status_code == 401
    assert response.json["error"]["code"] == "embed_session_invalid"


def test_logout_ends_the_token_and_the_sso_token_cannot_be_replayed(
    client: FlaskClient, db: Session
) -> None:
    token = sso_token(iat=int((utcnow() - timedelta(seconds=5)).timestamp()))
    access = exchange(client, token).json["access_token"]

    response = client.delete("/api/v1/embed/sessions/current", headers=bearer(access))

    assert response.status_code == 204
    after = client.post("/api/v1/embed/sessions/refresh", headers=bearer(access))
    assert after.status_code == 401
    replay = exchange(client, token)
    assert replay.status_code == 401
    assert replay.json["error"]["code"] == "sso_replayed"
    fresh = sso_token(iat=int((utcnow() + timedelta(seconds=2)).timestamp()))
    assert exchange(client, fresh).status_code == 201


def test_a_new_name_renames_and_a_taken_name_gets_a_number(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    make_user(username="Piet")
    assert exchange(client, sso_token(name="Jan")).json["user"]["name"] == "Jan"

    renamed = exchange(client, sso_token(name="piet")).json["user"]["name"]

    assert renamed == "piet · 2"


def test_a_banned_reader_gets_a_token_and_posting_says_banned(
    client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    make_article("a1")
    body = exchange(client, sso_token()).json
    user = db.get(User, body["user"]["id"])
    assert user is not None
    user.banned_until = utcnow() + timedelta(days=2)
    user.ban_reason = "Beledigingen"
    db.commit()

    response = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "Mag ik nog iets zeggen over de match?"},
        headers=bearer(body["access_token"]),
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "banned"
    assert response.json["error"]["details"]["reason"] == "Beledigingen"


# ---------------------------------------------------------------- CORS


@pytest.mark.parametrize(
    "path",
    ["/api/v1/embed/sessions", "/api/v1/embed/sessions/refresh", "/api/v1/articles/a1/comments"],
)
def test_a_preflight_from_an_allowed_origin_is_answered(client: FlaskClient, path: str) -> None:
    response = client.options(
        path,
        headers={
            "Origin": HOST,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )

    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == HOST
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {
        h.strip().lower() for h in response.headers["Access-Control-Allow-Headers"].split(",")
    }
    assert {"authorization", "content-type", "if-none-match"} <= allowed
    assert "Access-Control-Allow-Credentials" not in response.headers
    assert "Origin" in response.headers.get("Vary", "")


def test_another_origin_gets_no_cors_headers(client: FlaskClient) -> None:
    preflight = client.options(
        "/api/v1/embed/sessions",
        headers={"Origin": "https://kwaad.example", "Access-Control-Request-Method": "POST"},
    )
    answer = exchange(client, sso_token(), origin="https://kwaad.example")

    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Origin" not in answer.headers


def test_answers_and_errors_carry_cors_for_an_allowed_origin(client: FlaskClient) -> None:
    ok = exchange(client, sso_token())
    refused = exchange(client, "kapot")

    for response in (ok, refused):
        assert response.headers["Access-Control-Allow-Origin"] == HOST
        assert "Access-Control-Allow-Credentials" not in response.headers


def test_a_star_echoes_the_origin(app: Flask) -> None:
    app.config["EMBED_ALLOWED_ORIGINS"] = "*"

    response = app.test_client().get(
        "/api/v1/articles/a1/comments", headers={"Origin": "https://eender.example"}
    )

    assert response.headers["Access-Control-Allow-Origin"] == "https://eender.example"


def test_other_api_routes_get_no_embed_cors(client: FlaskClient) -> None:
    response = client.get("/api/v1/articles/a1", headers={"Origin": HOST})

    assert "Access-Control-Allow-Origin" not in response.headers


# ---------------------------------------------------------------- the popup login's token

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _csrf(client: FlaskClient) -> str:
    page = client.get("/profiel").get_data(as_text=True)
    found = CSRF_FIELD.search(page)
    assert found, page[:300]
    return found.group(1)


def test_the_popup_gets_a_token_for_the_signed_in_fan(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    fan = make_user()
    login(client, fan)
    app.config["WTF_CSRF_ENABLED"] = True
    token = _csrf(client)

    response = client.post(
        "/embed/sessie", headers={"X-CSRFToken": token, "Accept": "application/json"}
    )

    assert response.status_code == 201, response.data[:300]
    assert response.json["user"] == {"id": fan.id, "name": fan.username}
    access = response.json["access_token"]
    other = app.test_client()  # the iframe: no cookie, only the token
    refreshed = other.post("/api/v1/embed/sessions/refresh", headers=bearer(access))
    assert refreshed.status_code == 201


def test_the_popup_token_needs_the_csrf_token(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    login(client, make_user())
    app.config["WTF_CSRF_ENABLED"] = True

    response = client.post("/embed/sessie", headers={"Accept": "application/json"})

    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"


def test_the_popup_token_needs_a_signed_in_fan(client: FlaskClient) -> None:
    response = client.post("/embed/sessie", headers={"Accept": "application/json"})

    assert response.status_code == 401
    assert response.json["error"]["code"] == "login_required"


# ---------------------------------------------------------------- password login


def test_login_refuses_an_sso_account_with_a_dutch_message(client: FlaskClient) -> None:
    exchange(client, sso_token(name="Jan"))

    response = client.post("/login", data={"login": "Jan", "password": TEST_PASSWORD})

    assert response.status_code == 403
    assert "via de website van je krant" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/api/v1/embed/sessions"),
        ("POST", "/api/v1/embed/sessions/refresh"),
        ("DELETE", "/api/v1/embed/sessions/current"),
    ],
)
def test_an_editor_api_token_opens_no_embed_session(
    client: FlaskClient, db: Session, make_user: Callable[..., User], method: str, path: str
) -> None:
    from accounts.services import create_api_token, token_scopes_for
    from models import Role

    admin = make_user(Role.ADMIN)
    _, plain = create_api_token(db, admin, "cms", token_scopes_for(admin.role))
    db.commit()

    response = client.open(
        path, method=method, json={"sso_token": sso_token()}, headers=bearer(plain)
    )

    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"


def test_the_openapi_document_has_the_embed_scheme_and_routes(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json

    assert document["components"]["securitySchemes"]["embedSession"]["scheme"] == "bearer"
    refresh = document["paths"]["/api/v1/embed/sessions/refresh"]["post"]
    assert refresh["security"] == [{"embedSession": []}]
    assert "security" not in document["paths"]["/api/v1/embed/sessions"]["post"]
    post_comment = document["paths"]["/api/v1/articles/{article_id}/comments"]["post"]
    assert {"embedSession": []} in post_comment["security"]
    assert "delete" in document["paths"]["/api/v1/embed/sessions/current"]


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("TRIBUNE_SSO_SECRET", "kort", "at least 32"),
        ("TRIBUNE_SSO_PUBLIC_KEY", "-----BEGIN PUBLIC KEY-----\nkapot\n", "PEM public key"),
    ],
)
def test_unusable_sso_settings_stop_the_app_at_startup(
    app_settings: dict[str, Any], setting: str, value: str, says: str
) -> None:
    app_settings[setting] = value

    with pytest.raises(SettingError, match=says):
        create_app(app_settings)


# ---------------------------------------------------------------- posting as comments.js does


def test_an_embed_token_posts_json_cross_origin_until_logout(
    client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    make_article("a1")
    access = exchange(client, sso_token()).json["access_token"]
    headers = {**bearer(access), "Origin": HOST}

    posted = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "Wat een match gisteren, Defour was top!"},
        headers=headers,
    )

    assert posted.status_code == 201
    assert posted.json["state"] == "published" and posted.json["created_at"]
    assert posted.headers["Access-Control-Allow-Origin"] == HOST
    assert "Set-Cookie" not in posted.headers
    # The token is read anew on every request: a logout ends it at once.
    assert client.delete("/api/v1/embed/sessions/current", headers=headers).status_code == 204
    after = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "Nog een reactie na het afmelden."},
        headers=headers,
    )
    assert after.status_code == 401
    assert after.json["error"]["code"] == "embed_session_invalid"
    assert after.headers["Access-Control-Allow-Origin"] == HOST


def test_logging_out_everywhere_ends_the_embed_token_at_once(
    client: FlaskClient, db: Session, make_article: Callable[..., Article]
) -> None:
    make_article("a1")
    body = exchange(client, sso_token()).json
    user = db.get_one(User, body["user"]["id"])
    end_sessions(db, user)
    db.commit()

    response = client.post(
        "/api/v1/articles/a1/comments",
        json={"body": "Wat een match gisteren, Defour was top!"},
        headers=bearer(body["access_token"]),
    )

    assert response.status_code == 401
    assert response.json["error"]["code"] == "embed_session_invalid"


def test_a_rejection_names_the_reason_the_author_sees(
    client: FlaskClient, make_article: Callable[..., Article]
) -> None:
    make_article("a1")
    access = exchange(client, sso_token()).json["access_token"]

    response = client.post(
        "/api/v1/articles/a1/comments", json={"body": REJECT_TEXT}, headers=bearer(access)
    )

    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert details["decision_reason"] == "racisme" and "racisme" in details["reasons"]
