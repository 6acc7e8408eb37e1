"""Context rules around screening, through the API: mode, bans, new accounts, history, floods."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import create_app
from models import Article, Comment, CommentMode, CommentState, User, utcnow
from moderation.rules import PostingPolicy, duplicate_flag, fingerprint, similarity
from tests.conftest import login
from tests.factories import (
    CLEAN,
    CLEAN_TEXTS,
    HOLD_TEXT,
    REJECT_TEXT,
    assert_no_drift,
    create_comment,
    error_code,
    isolate_and_check,
    post_comment,
    reload,
)

NEAR_DUPLICATE = (
    "De keeper hield ons overeind met drie reddingen.",
    "De keeper hield ons overeind met drie reddingen, top.",
)


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


def _flag_codes(db: Session, comment_id: int) -> list[str]:
    return [flag.code for flag in reload(db, Comment, comment_id).flags]


def _established(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article], **fields: Any
) -> User:
    """A fan with two published comments elsewhere: no longer a new account."""
    user = make_user(**fields)
    elsewhere = make_article()
    for text in CLEAN_TEXTS[-2:]:
        create_comment(db, elsewhere, user, CommentState.PUBLISHED, body=text)
    return user


# ---------------------------------------------------------------- article mode


def test_premoderated_article_holds_even_a_clean_comment(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = _established(db, make_user, make_article)
    article = make_article(comment_mode=CommentMode.PREMODERATED)
    login(client, user)

    response = post_comment(client, article.cms_id, CLEAN)

    assert response.status_code == 202
    assert response.get_json()["state"] == "held"
    assert response.get_json()["reasons"] == ["andere"]
    assert _flag_codes(db, response.get_json()["id"]) == ["premoderated"]
    assert reload(db, Article, article.id).comment_count == 0
    assert_no_drift(db)


def test_premoderated_article_still_rejects_what_screens_to_reject(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = _established(db, make_user, make_article)
    article = make_article(comment_mode=CommentMode.PREMODERATED)
    login(client, user)

    response = post_comment(client, article.cms_id, REJECT_TEXT)

    assert response.status_code == 422
    assert error_code(response) == "comment_rejected"
    assert_no_drift(db)


def test_closed_article_takes_no_comments_409(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article(comment_mode=CommentMode.CLOSED)
    login(client, make_user())

    response = post_comment(client, article.cms_id, CLEAN)

    assert response.status_code == 409
    assert error_code(response) == "comments_closed"
    assert db.scalars(select(Comment)).all() == []


# ---------------------------------------------------------------- bans


def test_suspended_author_is_refused_403_with_the_end_date(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    until = (utcnow() + timedelta(days=3)).replace(microsecond=0)
    user = make_user(banned_until=until, ban_reason="Herhaaldelijk beledigend")
    article = make_article()
    login(client, user)

    response = post_comment(client, article.cms_id, CLEAN)

    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "banned"
    assert datetime.fromisoformat(error["details"]["banned_until"]) == until
    assert error["details"]["reason"] == "Herhaaldelijk beledigend"
    assert "geschorst" in error["message"]
    assert db.scalars(select(Comment)).all() == []


def test_permanently_banned_author_is_refused_403(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = make_user(banned_until=datetime(9999, 12, 31, tzinfo=UTC))
    article = make_article()
    login(client, user)

    response = post_comment(client, article.cms_id, CLEAN)

    assert response.status_code == 403
    error = response.get_json()["error"]
    assert error["code"] == "banned"
    assert error["details"]["banned_until"] is None
    assert "permanent" in error["message"]


def test_author_can_post_again_when_the_suspension_is_over(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = make_user(banned_until=utcnow() - timedelta(minutes=1))
    article = make_article()
    login(client, user)

    response = post_comment(client, article.cms_id, CLEAN)

    assert response.status_code == 201
    assert_no_drift(db)


# ---------------------------------------------------------------- new accounts


@pytest.mark.parametrize(("earlier", "new_account"), [(0, True), (1, True), (2, False), (3, False)])
def test_a_flag_on_one_of_the_first_two_comments_adds_a_new_account_flag(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    earlier: int,
    new_account: bool,
) -> None:
    user = make_user()
    article = make_article()
    for text in CLEAN_TEXTS[:earlier]:
        create_comment(db, article, user, CommentState.PUBLISHED, body=text)
    login(client, user)

    response = post_comment(client, article.cms_id, HOLD_TEXT)

    assert response.status_code == 202
    codes = _flag_codes(db, response.get_json()["id"])
    assert codes == ["compound_curse", "new_account"] if new_account else ["compound_curse"]
    assert_no_drift(db)


def test_a_clean_comment_from_a_new_account_is_published(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())

    responses = [post_comment(client, article.cms_id, text) for text in CLEAN_TEXTS[:2]]

    assert [r.status_code for r in responses] == [201, 201]
    assert all(_flag_codes(db, r.get_json()["id"]) == [] for r in responses)
    assert reload(db, Article, article.id).comment_count == 2
    assert_no_drift(db)


# ---------------------------------------------------------------- recent history


@pytest.mark.parametrize(
    ("rejected", "removed", "published", "status", "detail"),
    [
        (3, 0, 1, 202, "75%"),
        (1, 1, 2, 202, "50%"),
        (4, 0, 6, 202, "40%"),
        (3, 0, 7, 201, None),  # exactly the 30 % threshold: not above it
        (1, 0, 3, 201, None),
        (2, 0, 0, 201, None),  # too few decided comments to judge
    ],
)
def test_a_high_recent_rejection_rate_holds_the_comment(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    rejected: int,
    removed: int,
    published: int,
    status: int,
    detail: str | None,
) -> None:
    user = make_user()
    history = make_article()
    states = (
        [CommentState.REJECTED] * rejected
        + [CommentState.REMOVED] * removed
        + [CommentState.PUBLISHED] * published
    )
    for state in states:
        create_comment(db, history, user, state)
    article = make_article()
    login(client, user)

    response = post_comment(client, article.cms_id, CLEAN_TEXTS[0])

    assert response.status_code == status, response.get_json()
    flags = reload(db, Comment, response.get_json()["id"]).flags
    if detail is None:
        assert flags == []
    else:
        assert [(f.code, f.reason.value, f.detail) for f in flags] == [
            ("recent_history", "andere", detail)
        ]
    assert_no_drift(db)


def test_rejections_older_than_the_window_do_not_count(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = make_user()
    history = make_article()
    long_ago = utcnow() - timedelta(days=31)
    for _ in range(4):
        create_comment(db, history, user, CommentState.REJECTED, created_at=long_ago)
    create_comment(db, history, user, CommentState.PUBLISHED)
    login(client, user)

    response = post_comment(client, make_article().cms_id, CLEAN_TEXTS[0])

    assert response.status_code == 201
    assert_no_drift(db)


# ---------------------------------------------------------------- floods


def test_fourth_comment_within_30_seconds_is_429(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    article = make_article()
    login(client, make_user())
    first = [post_comment(client, article.cms_id, text) for text in CLEAN_TEXTS[:3]]

    fourth = post_comment(client, article.cms_id, CLEAN_TEXTS[3])

    assert [r.status_code for r in first] == [201, 201, 201]
    assert fourth.status_code == 429
    assert error_code(fourth) == "too_fast"
    assert fourth.get_json()["error"]["details"]["retry_after"] == 30
    assert len(db.scalars(select(Comment)).all()) == 3
    # Half a minute later the author may post again.
    later = time.time() + 31
    monkeypatch.setattr("comments.services.clock", lambda: later)
    assert post_comment(client, article.cms_id, CLEAN_TEXTS[3]).status_code == 201
    assert_no_drift(db)


def test_rejected_comments_count_towards_the_flood_limit(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())
    statuses = [
        post_comment(client, article.cms_id, text).status_code
        for text in (REJECT_TEXT, HOLD_TEXT, CLEAN_TEXTS[0], CLEAN_TEXTS[1])
    ]

    assert statuses == [422, 202, 201, 429]
    assert_no_drift(db)


@pytest.fixture(params=["in-process", pytest.param("redis", marks=pytest.mark.redis)])
def flood_memory(request: pytest.FixtureRequest, app_settings: dict[str, Any]) -> str:
    """The flood memory in process, or in Redis (set before the app is built)."""
    if request.param == "redis":
        request.getfixturevalue("redis_settings")
    return str(request.param)


def test_a_post_that_fails_after_its_flood_claim_does_not_count(
    flood_memory: str,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    article = make_article()
    login(client, make_user())

    def broken_screening(text: str) -> Any:
        raise RuntimeError("screening failed")

    with monkeypatch.context() as patched:
        patched.setattr("views.api_comments.screen_text", broken_screening)
        failed = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    statuses = [post_comment(client, article.cms_id, text).status_code for text in CLEAN_TEXTS[:4]]

    assert failed.status_code == 500
    # The claim was collected and taken back: three posts fit in the limit, the fourth not.
    assert statuses == [201, 201, 201, 429]
    assert len(db.scalars(select(Comment)).all()) == 3


@pytest.fixture
def flood_of_one_per_minute(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_FLOOD_LIMIT"] = 1
    app_settings["TRIBUNE_FLOOD_WINDOW_SECONDS"] = 60


def test_flood_limit_comes_from_the_settings(
    flood_of_one_per_minute: None,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())

    first = post_comment(client, article.cms_id, CLEAN_TEXTS[0])
    second = post_comment(client, article.cms_id, CLEAN_TEXTS[1])

    assert first.status_code == 201
    assert second.status_code == 429
    assert second.get_json()["error"]["details"]["retry_after"] == 60


def test_the_flood_limit_is_per_author(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    busy, calm = app.test_client(), app.test_client()
    login(busy, make_user())
    login(calm, make_user())
    for text in CLEAN_TEXTS[:3]:
        assert post_comment(busy, article.cms_id, text).status_code == 201

    assert post_comment(calm, article.cms_id, CLEAN_TEXTS[3]).status_code == 201
    assert post_comment(busy, article.cms_id, CLEAN_TEXTS[4]).status_code == 429


# ---------------------------------------------------------------- duplicates


@pytest.mark.parametrize(
    ("first", "second", "code"),
    [
        (CLEAN_TEXTS[0], CLEAN_TEXTS[0], "duplicate"),
        (CLEAN_TEXTS[0], "sterke match van de verdediging, gisteren!", "duplicate"),
        ("Wat een goal van Defour", "Wat een goal van Défour!", "duplicate"),
        (*NEAR_DUPLICATE, "near_duplicate"),
    ],
    ids=["exact", "case-and-punctuation", "accents", "near"],
)
def test_the_same_comment_again_is_held_as_a_duplicate(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    first: str,
    second: str,
    code: str,
) -> None:
    article = make_article()
    login(client, _established(db, make_user, make_article))

    original = post_comment(client, article.cms_id, first)
    again = post_comment(client, article.cms_id, second)

    assert original.status_code == 201
    assert again.status_code == 202, again.get_json()
    assert again.get_json()["reasons"] == ["spam"]
    assert _flag_codes(db, again.get_json()["id"]) == [code]
    assert_no_drift(db)


def test_short_comments_may_be_repeated(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    login(client, make_user())

    statuses = [post_comment(client, article.cms_id, "Goal!!").status_code for _ in range(2)]

    assert statuses == [201, 201]


def test_duplicates_are_per_author(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    first, second = app.test_client(), app.test_client()
    login(first, make_user())
    login(second, make_user())

    assert post_comment(first, article.cms_id, CLEAN_TEXTS[0]).status_code == 201
    assert post_comment(second, article.cms_id, CLEAN_TEXTS[0]).status_code == 201


def test_near_duplicate_rule_without_a_database() -> None:
    policy = PostingPolicy()
    original, variant = (fingerprint(text) for text in NEAR_DUPLICATE)

    assert similarity(original, variant) >= policy.near_duplicate_similarity
    assert duplicate_flag(variant, [original], policy).code == "near_duplicate"
    assert duplicate_flag(original, [original], policy).code == "duplicate"
    assert duplicate_flag(fingerprint(CLEAN_TEXTS[1]), [original], policy) is None
    assert duplicate_flag("goal", ["goal"], policy) is None


# ---------------------------------------------------------------- shared memory through Redis


@pytest.fixture
def redis_settings(app_settings: dict[str, Any], redis_url: str) -> dict[str, Any]:
    app_settings["REDIS_URL"] = redis_url
    app_settings.pop("RATELIMIT_STORAGE_URI", None)
    return app_settings


@pytest.fixture
def second_app(redis_settings: dict[str, Any], app: Flask) -> Iterator[Flask]:
    """Another instance of the app on the same database and the same Redis."""
    other = create_app(redis_settings)
    yield other
    other.extensions["tribune.engine"].dispose()


@pytest.mark.redis
def test_a_flood_across_two_instances_is_caught_through_redis(
    redis_settings: dict[str, Any],
    app: Flask,
    second_app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    user = make_user()
    one, two = app.test_client(), second_app.test_client()
    login(one, user)
    login(two, user)

    statuses = [
        post_comment(one, article.cms_id, CLEAN_TEXTS[0]).status_code,
        post_comment(two, article.cms_id, CLEAN_TEXTS[1]).status_code,
        post_comment(one, article.cms_id, CLEAN_TEXTS[2]).status_code,
    ]
    fourth = post_comment(two, article.cms_id, CLEAN_TEXTS[3])

    assert statuses == [201, 201, 201]
    assert fourth.status_code == 429
    assert error_code(fourth) == "too_fast"
    assert_no_drift(db)


@pytest.mark.redis
def test_a_duplicate_across_two_instances_is_caught_through_redis(
    redis_settings: dict[str, Any],
    app: Flask,
    second_app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article()
    user = _established(db, make_user, make_article)
    one, two = app.test_client(), second_app.test_client()
    login(one, user)
    login(two, user)

    original = post_comment(one, article.cms_id, CLEAN_TEXTS[0])
    again = post_comment(two, article.cms_id, CLEAN_TEXTS[0])

    assert original.status_code == 201
    assert again.status_code == 202
    assert _flag_codes(db, again.get_json()["id"]) == ["duplicate"]
    assert_no_drift(db)
