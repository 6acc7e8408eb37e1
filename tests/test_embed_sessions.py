"""Embed access tokens (accounts.embed_sessions) and the requests they authenticate: the
comments embed's pages (blueprint `embed_comments`) and the /api/v1 comment routes. Such
requests read no cookie, skip CSRF, and a bad token is 401 on the API and the anonymous view
with a Dutch notice on a page."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts import services
from accounts.embed_sessions import (
    EmbedRefusal,
    find_embed_session,
    issue_embed_session,
    refresh_embed_session,
    revoke_embed_session,
    user_for_embed_token,
)
from models import Article, Comment, EmbedSession, EmbedVia, Role, SsoIdentity, User, utcnow


def test_a_token_is_stored_hashed_and_finds_its_user(db: Session, make_user: Callable) -> None:
    fan = make_user()
    embed, plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()

    assert plain.startswith("tre_") and len(plain) > 40
    assert plain not in embed.token_hash and len(embed.token_hash) == 64
    assert user_for_embed_token(db, plain) == fan
    assert user_for_embed_token(db, plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None
    assert find_embed_session(db, "trb_" + plain[4:]) is EmbedRefusal.UNKNOWN


def test_a_token_expires_after_its_lifetime(db: Session, make_user: Callable) -> None:
    fan = make_user()
    now = utcnow()
    _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN, lifetime=timedelta(minutes=15), now=now)
    db.commit()

    assert user_for_embed_token(db, plain, now + timedelta(minutes=14)) == fan
    assert find_embed_session(db, plain, now + timedelta(minutes=15)) is EmbedRefusal.EXPIRED


def test_refresh_replaces_the_token_and_ends_the_old_one(db: Session, make_user: Callable) -> None:
    fan = make_user()
    old, old_plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    new, new_plain = refresh_embed_session(db, old)
    db.commit()

    assert new.id != old.id and new.via is EmbedVia.LOGIN
    assert find_embed_session(db, old_plain) is EmbedRefusal.ENDED
    assert user_for_embed_token(db, new_plain) == fan


def test_revoke_ends_the_token_and_records_the_sso_logout(db: Session, make_user: Callable) -> None:
    fan = make_user()
    identity = SsoIdentity(issuer="", subject="42", user_id=fan.id, name=fan.username)
    db.add(identity)
    db.flush()
    embed, plain = issue_embed_session(db, fan, EmbedVia.SSO, identity=identity)
    revoke_embed_session(db, embed)
    db.commit()

    assert find_embed_session(db, plain) is EmbedRefusal.ENDED
    assert identity.logged_out_at is not None


def test_logging_out_everywhere_ends_embed_sessions_too(db: Session, make_user: Callable) -> None:
    fan = make_user()
    _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    services.end_sessions(db, fan)
    db.commit()

    assert find_embed_session(db, plain) is EmbedRefusal.ENDED


def test_a_deactivated_account_has_no_embed_session(db: Session, make_user: Callable) -> None:
    fan = make_user()
    _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN)
    fan.is_active = False
    db.commit()

    assert user_for_embed_token(db, plain) is None


def test_expired_rows_of_the_user_are_cleaned_up_on_issue(db: Session, make_user: Callable) -> None:
    fan = make_user()
    long_ago = utcnow() - timedelta(days=3)
    issue_embed_session(db, fan, EmbedVia.LOGIN, now=long_ago)
    issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()

    assert len(db.scalars(select(EmbedSession).where(EmbedSession.user_id == fan.id)).all()) == 1


# ---------------------------------------------------------------- requests


@pytest.fixture
def embed_app(app: Flask, make_article: Callable[..., Article]) -> Flask:
    """The app with its embed pages (blueprint `embed_comments`), CSRF on, and article a1."""
    make_article("a1")
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _token(db: Session, user: User, **kwargs: Any) -> str:
    _, plain = issue_embed_session(db, user, EmbedVia.LOGIN, **kwargs)
    db.commit()
    return plain


def _signed_in_as(html: str) -> str | None:
    found = re.search(r"Aangemeld als <strong>([^<]+)</strong>", html)
    return found.group(1) if found else None


def test_the_bearer_token_signs_in_on_the_embed_page_without_a_cookie(
    embed_app: Flask, db: Session, make_user: Callable
) -> None:
    fan = make_user()
    plain = _token(db, fan)
    client = embed_app.test_client()

    response = client.get("/embed/comments/a1", headers={"Authorization": f"Bearer {plain}"})

    assert response.status_code == 200
    assert _signed_in_as(response.get_data(as_text=True)) == fan.username
    assert "Set-Cookie" not in response.headers
    assert "Cookie" not in response.headers.get("Vary", "")


def test_a_bearer_post_on_the_embed_page_needs_no_csrf_token(
    embed_app: Flask, db: Session, make_user: Callable
) -> None:
    fan = make_user()
    plain = _token(db, fan)
    client = embed_app.test_client()
    body = {"body": "Wat een wedstrijd was dat gisteren!"}

    with_token = client.post(
        "/embed/comments/a1/reacties", data=body, headers={"Authorization": f"Bearer {plain}"}
    )
    without = client.post(
        "/embed/comments/a1/reacties", data=body, headers={"Accept": "application/json"}
    )

    assert with_token.status_code == 201
    assert without.status_code == 400
    assert without.json["error"]["code"] == "csrf_failed"


def test_a_session_cookie_does_not_sign_in_a_bearer_request_on_the_embed_page(
    embed_app: Flask, db: Session, make_user: Callable
) -> None:
    # The cookie of a first-party login is ignored when a token (here a bad one) is sent:
    # only the token decides, so no cookie authority rides along a CSRF-exempt request.
    from tests.conftest import TEST_PASSWORD

    fan = make_user()
    client = embed_app.test_client()
    embed_app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"login": fan.username, "password": TEST_PASSWORD})
    assert _signed_in_as(client.get("/embed/comments/a1").get_data(as_text=True)) == fan.username

    response = client.get("/embed/comments/a1", headers={"Authorization": "Bearer tre_nope"})

    assert _signed_in_as(response.get_data(as_text=True)) is None


@pytest.mark.parametrize(
    ("shift", "expected"),
    [
        (timedelta(minutes=-20), "Je aanmelding in de reacties is verlopen."),
        (None, "Je aanmelding in de reacties is ongeldig."),
    ],
)
def test_an_expired_or_unknown_token_shows_the_anonymous_page_with_a_dutch_notice(
    embed_app: Flask,
    db: Session,
    make_user: Callable,
    shift: timedelta | None,
    expected: str,
) -> None:
    fan = make_user()
    plain = _token(db, fan, now=utcnow() + shift) if shift is not None else "tre_unknown"
    response = embed_app.test_client().get(
        "/embed/comments/a1", headers={"Authorization": f"Bearer {plain}"}
    )

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert _signed_in_as(html) is None
    assert f'<p class="notice error" role="alert">{expected}' in html


def test_the_embed_token_posts_a_comment_through_the_api(
    app: Flask, db: Session, make_user: Callable, make_article: Callable[..., Article]
) -> None:
    fan = make_user()
    make_article("a1")
    plain = _token(db, fan)

    response = app.test_client().post(
        "/api/v1/articles/a1/comments",
        json={"body": "Wat een wedstrijd was dat gisteren!"},
        headers={"Authorization": f"Bearer {plain}", "Origin": "https://elders.example"},
    )

    assert response.status_code in (201, 202), response.json
    assert "Set-Cookie" not in response.headers
    db.rollback()
    assert db.scalar(select(Comment.author_id)) == fan.id


@pytest.mark.parametrize(
    ("shift", "code"),
    [(timedelta(minutes=-20), "embed_session_expired"), (None, "embed_session_invalid")],
)
def test_a_bad_embed_token_is_401_on_the_api(
    app: Flask,
    db: Session,
    make_user: Callable,
    make_article: Callable[..., Article],
    shift: timedelta | None,
    code: str,
) -> None:
    fan = make_user()
    make_article("a1")
    plain = _token(db, fan, now=utcnow() + shift) if shift is not None else "tre_unknown"

    response = app.test_client().post(
        "/api/v1/articles/a1/comments",
        json={"body": "Wat een wedstrijd was dat gisteren!"},
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert response.status_code == 401
    assert response.json["error"]["code"] == code


def test_an_embed_token_opens_no_other_api_route(
    app: Flask, db: Session, make_user: Callable
) -> None:
    editor = make_user(Role.EDITOR)
    plain = _token(db, editor)

    response = app.test_client().put(
        "/api/v1/articles/a1",
        json={"title": "Gekaapt"},
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_token"
