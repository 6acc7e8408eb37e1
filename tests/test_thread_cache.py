"""The cached thread listing: served from the cache, and fresh after every change readers see.

Run with the cache in Redis (shared by workers) and in process (no REDIS_URL).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from models import Article, Comment, Role, User
from tests.conftest import login
from tests.factories import CLEAN_TEXTS, HOLD_TEXT, ORIGIN, comments_url, post_comment

JSON = {"Accept": "application/json"}


@pytest.fixture(params=["redis", "in-process"])
def cached_app(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> Flask:
    if request.param == "redis":
        app_settings["REDIS_URL"] = request.getfixturevalue("redis_url")
    else:
        app_settings["REDIS_URL"] = None
        app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    return request.getfixturevalue("app")


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    login(client, user)
    return client


def _listing(client: FlaskClient, article: Article) -> list[tuple[int, str | None]]:
    response = client.get(comments_url(article.cms_id) + "?per_page=50")
    assert response.status_code == 200
    body = response.get_json()
    shown = [(c["id"], c["body"]) for c in body["comments"]]
    assert body["count"] == len(shown)
    return shown


def test_the_listing_is_cached_and_every_visible_change_renews_it(
    cached_app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    app = cached_app
    article = make_article()
    fan = _client(app, make_user())
    moderator = _client(app, make_user(Role.MODERATOR))
    reader = app.test_client()
    assert _listing(reader, article) == []

    first = post_comment(fan, article.cms_id, CLEAN_TEXTS[0]).get_json()["id"]
    assert _listing(reader, article) == [(first, CLEAN_TEXTS[0])]

    # Served from the cache: a change behind the application's back is not seen ...
    db.execute(update(Comment).where(Comment.id == first).values(body="achter de rug om"))
    db.commit()
    assert _listing(reader, article) == [(first, CLEAN_TEXTS[0])]

    # ... until the state machine touches the article: a held comment changes nothing public,
    held = post_comment(fan, article.cms_id, HOLD_TEXT).get_json()["id"]
    assert _listing(reader, article) == [(first, CLEAN_TEXTS[0])]
    # an approval does.
    approved = moderator.post(f"/moderatie/reacties/{held}/goedkeuren", headers=JSON)
    assert approved.status_code == 200
    assert _listing(reader, article) == [(held, HOLD_TEXT), (first, "achter de rug om")]

    edited = fan.patch(f"/api/v1/comments/{first}", json={"body": CLEAN_TEXTS[1]}, headers=ORIGIN)
    assert edited.status_code == 200
    assert _listing(reader, article) == [(held, HOLD_TEXT), (first, CLEAN_TEXTS[1])]

    removed = moderator.post(
        f"/moderatie/reacties/{held}/verwijderen", data={"reason": "beledigend"}, headers=JSON
    )
    assert removed.status_code == 200
    assert _listing(reader, article) == [(first, CLEAN_TEXTS[1])]

    deleted = fan.delete(f"/api/v1/comments/{first}", headers=ORIGIN)
    assert deleted.status_code in (200, 204)
    assert _listing(reader, article) == []
