"""The comments JSON API: posting, replies, editing, deleting, threads and one's own comments."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, Flag, User, utcnow
from tests.conftest import login
from tests.factories import (
    CLEAN,
    CLEAN_TEXTS,
    HOLD_TEXT,
    ORIGIN,
    REJECT_TEXT,
    SharedApp,
    assert_no_drift,
    audit_trail,
    changes,
    comments_url,
    counters,
    create_comment,
    error_code,
    isolate_and_check,
    module_database,
    post_comment,
    reload,
    shared_app,
    state_change,
)


@pytest.fixture(autouse=True)
def _isolated_and_checked(request: pytest.FixtureRequest) -> Iterator[None]:
    yield from isolate_and_check(request)


@pytest.fixture(scope="module")
def shared(
    request: pytest.FixtureRequest,
    database_template: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SharedApp]:
    """One app for the refusals below: none of them may store anything."""
    with (
        module_database(request, database_template, tmp_path_factory) as url,
        shared_app(url) as shared,
    ):
        yield shared
        assert shared.db.scalars(select(Comment.id)).all() == [shared.comment.id]
        assert_no_drift(shared.db)


@pytest.fixture
def author(client: FlaskClient, make_user: Callable[..., User]) -> User:
    """A logged-in fan."""
    user = make_user()
    login(client, user)
    return user


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article("defour-blijft")


def _patch(client: FlaskClient, comment_id: int, body: object) -> Any:
    return client.patch(f"/api/v1/comments/{comment_id}", json={"body": body}, headers=ORIGIN)


def _delete(client: FlaskClient, comment_id: int) -> Any:
    return client.delete(f"/api/v1/comments/{comment_id}", headers=ORIGIN)


# ---------------------------------------------------------------- posting: the three outcomes


def test_clean_comment_is_published_201(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    before = counters(db, article, author)

    response = post_comment(client, article.cms_id, f"  {CLEAN}\r\n")

    assert response.status_code == 201
    body = response.get_json()
    assert body["state"] == "published"
    assert body["body"] == CLEAN
    assert body["reasons"] == []
    assert body["decision_reason"] is None
    assert body["parent_id"] is None
    stored = reload(db, Comment, body["id"])
    assert (stored.state, stored.body, stored.flags) == (CommentState.PUBLISHED, CLEAN, [])
    assert audit_trail(db, stored.id) == [("post", "new", "published", None)]
    assert changes(before, counters(db, article, author)) == state_change(
        "new", "published", "post"
    )
    assert_no_drift(db)


def test_comment_that_screens_to_hold_is_stored_held_202_with_its_flags(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    before = counters(db, article, author)

    response = post_comment(client, article.cms_id, HOLD_TEXT)

    assert response.status_code == 202
    body = response.get_json()
    assert body["state"] == "held"
    assert body["reasons"] == ["beledigend", "andere"]  # the curse, then the new-account flag
    assert "moderator" in body["message"]
    stored = reload(db, Comment, body["id"])
    assert stored.state is CommentState.HELD
    assert stored.queued_at is not None
    flags = [
        (f.code, f.reason.value, f.severity, f.detail, f.span_start, f.span_end)
        for f in stored.flags
    ]
    assert flags == [
        ("compound_curse", "beledigend", 20, "kanker-", 8, 21),
        ("new_account", "andere", 20, None, None, None),
    ]
    assert HOLD_TEXT[8:21] == "kankerscheids"
    assert stored.top_severity == 20
    assert audit_trail(db, stored.id) == [("post", "new", "held", None)]
    assert changes(before, counters(db, article, author)) == state_change("new", "held", "post")
    assert_no_drift(db)


def test_comment_that_screens_to_reject_is_stored_and_answered_422_with_reasons(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    before = counters(db, article, author)

    response = post_comment(client, article.cms_id, REJECT_TEXT)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "comment_rejected"
    assert error["details"]["reasons"] == ["racisme"]
    stored = reload(db, Comment, error["details"]["comment_id"])
    assert stored.state is CommentState.REJECTED
    assert stored.author_id == author.id
    assert stored.decision_reason.value == "racisme"
    assert [(f.code, f.detail, f.span_start, f.span_end) for f in stored.flags] == [
        ("slur", "makakken", 6, 14)
    ]
    assert audit_trail(db, stored.id) == [("post", "new", "rejected", None)]
    assert changes(before, counters(db, article, author)) == state_change("new", "rejected", "post")
    assert_no_drift(db)


def test_posting_on_an_unknown_article_is_404(shared: SharedApp) -> None:
    response = post_comment(shared.client, "bestaat-niet", CLEAN)

    assert response.status_code == 404
    assert error_code(response) == "article_not_found"


def test_posting_on_an_invalid_article_id_is_422(shared: SharedApp) -> None:
    response = post_comment(shared.client, "niet,geldig", CLEAN)

    assert response.status_code == 422
    assert error_code(response) == "invalid_article_id"


# ---------------------------------------------------------------- body validation


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("x", "body_too_short"),
        ("  x \n", "body_too_short"),
        ("   \n\t  ", "body_too_short"),
        ("", "body_too_short"),
        ("Defour " * 285 + "Defour", "body_too_long"),  # 2,001 characters
        (None, "invalid_body"),
        (42, "invalid_body"),
        (["Mooie goal"], "invalid_body"),
        ({"text": CLEAN}, "invalid_body"),
    ],
    ids=["one", "one-padded", "whitespace", "empty", "2001", "null", "number", "list", "object"],
)
def test_invalid_bodies_are_422(shared: SharedApp, body: object, code: str) -> None:
    response = post_comment(shared.client, shared.article.cms_id, body)

    assert response.status_code == 422
    assert error_code(response) == code
    if code == "body_too_long":
        assert response.get_json()["error"]["details"]["length"] == 2001


def test_body_limits_are_inclusive(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    longest = ("Defour " * 286)[:2000]

    short = post_comment(client, article.cms_id, "ok")
    long = post_comment(client, article.cms_id, longest)

    assert short.status_code == 201, short.get_json()
    assert long.status_code in (201, 202), long.get_json()
    assert len(reload(db, Comment, long.get_json()["id"]).body) == 2000


@pytest.mark.parametrize(
    ("data", "content_type", "status", "code"),
    [
        ('["Mooie goal"]', "application/json", 400, "invalid_json"),
        ('"Mooie goal"', "application/json", 400, "invalid_json"),
        ('{"body": ', "application/json", 400, "invalid_json"),
        ("body=Mooie+goal", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("Mooie goal", "text/plain", 415, "unsupported_media_type"),
    ],
    ids=["array", "string", "broken", "form", "text"],
)
def test_non_object_json_is_400_and_other_types_415(
    shared: SharedApp, data: str, content_type: str, status: int, code: str
) -> None:
    response = shared.client.post(
        comments_url(shared.article.cms_id), data=data, content_type=content_type, headers=ORIGIN
    )

    assert response.status_code == status
    assert error_code(response) == code


def test_anonymous_cannot_post_401(shared: SharedApp) -> None:
    response = post_comment(shared.anonymous(), shared.article.cms_id, CLEAN)

    assert response.status_code == 401
    assert error_code(response) == "login_required"


def test_posting_with_the_session_cookie_needs_our_origin(shared: SharedApp) -> None:
    response = shared.client.post(comments_url(shared.article.cms_id), json={"body": CLEAN})

    assert response.status_code == 403
    assert error_code(response) == "origin_mismatch"


# ---------------------------------------------------------------- replies


def test_replies_nest_two_levels_and_count_in_the_tally(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    root = post_comment(client, article.cms_id, CLEAN_TEXTS[0]).get_json()
    reply = post_comment(client, article.cms_id, CLEAN_TEXTS[1], root["id"]).get_json()
    deeper = post_comment(client, article.cms_id, CLEAN_TEXTS[2], reply["id"])

    assert deeper.status_code == 201
    stored = reload(db, Comment, deeper.get_json()["id"])
    assert (stored.parent_id, stored.root_id, stored.depth) == (reply["id"], root["id"], 2)
    listing = client.get(comments_url(article.cms_id)).get_json()
    assert listing["count"] == 3
    assert listing["total_threads"] == 1
    [thread] = listing["comments"]
    assert thread["body"] == CLEAN_TEXTS[0]
    [level_one] = thread["replies"]
    assert (level_one["body"], level_one["parent_id"]) == (CLEAN_TEXTS[1], root["id"])
    [level_two] = level_one["replies"]
    assert (level_two["body"], level_two["parent_id"]) == (CLEAN_TEXTS[2], reply["id"])
    assert level_two["replies"] == []
    assert reload(db, Article, article.id).comment_count == 3
    assert_no_drift(db)


def test_reply_to_a_comment_on_another_article_is_404(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_article: Callable[..., Article],
) -> None:
    elsewhere = create_comment(db, make_article(), author, CommentState.PUBLISHED)

    response = post_comment(client, article.cms_id, CLEAN_TEXTS[3], elsewhere.id)

    assert response.status_code == 404
    assert error_code(response) == "parent_not_found"
    assert reload(db, Article, article.id).comment_count == 0
    assert_no_drift(db)


def test_reply_to_a_missing_comment_is_404(shared: SharedApp) -> None:
    response = post_comment(shared.client, shared.article.cms_id, CLEAN, 987654)

    assert response.status_code == 404
    assert error_code(response) == "parent_not_found"


@pytest.mark.parametrize("state", [CommentState.HELD, CommentState.REJECTED, CommentState.DELETED])
def test_reply_to_a_comment_that_is_not_published_is_409(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
    state: CommentState,
) -> None:
    parent = create_comment(db, article, make_user(), state)

    response = post_comment(client, article.cms_id, CLEAN, parent.id)

    assert response.status_code == 409
    assert error_code(response) == "parent_not_visible"
    assert db.scalars(select(Comment).where(Comment.parent_id == parent.id)).all() == []
    assert_no_drift(db)


@pytest.mark.parametrize("parent_id", ["1", 1.5, True, [1]])
def test_parent_id_must_be_an_integer_or_null(shared: SharedApp, parent_id: object) -> None:
    response = post_comment(shared.client, shared.article.cms_id, CLEAN, parent_id)

    assert response.status_code == 422
    assert error_code(response) == "invalid_parent"


# ---------------------------------------------------------------- editing


def test_edit_within_the_window_changes_the_text(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = post_comment(client, article.cms_id, CLEAN).get_json()
    before = counters(db, article, author)

    response = _patch(client, comment["id"], CLEAN_TEXTS[4])

    assert response.status_code == 200
    body = response.get_json()
    assert (body["state"], body["body"]) == ("published", CLEAN_TEXTS[4])
    assert body["edited_at"] is not None
    stored = reload(db, Comment, comment["id"])
    assert stored.body == CLEAN_TEXTS[4]
    assert stored.edited_at is not None
    assert changes(before, counters(db, article, author)) == {}
    listing = client.get(comments_url(article.cms_id)).get_json()
    assert listing["comments"][0]["body"] == CLEAN_TEXTS[4]
    assert listing["comments"][0]["edited_at"] == body["edited_at"]
    assert_no_drift(db)


def test_edit_that_screens_to_hold_takes_the_comment_off_the_page_202(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = post_comment(client, article.cms_id, CLEAN).get_json()
    before = counters(db, article, author)

    response = _patch(client, comment["id"], HOLD_TEXT)

    assert response.status_code == 202
    assert response.get_json()["state"] == "held"
    stored = reload(db, Comment, comment["id"])
    assert (stored.state, stored.body) == (CommentState.HELD, HOLD_TEXT)
    assert [f.code for f in stored.flags] == ["compound_curse"]
    assert audit_trail(db, stored.id)[-1] == ("edit", "published", "held", author.id)
    assert changes(before, counters(db, article, author)) == state_change(
        "published", "held", "edit"
    )
    assert client.get(comments_url(article.cms_id)).get_json()["comments"] == []
    assert_no_drift(db)


def test_edit_that_screens_to_reject_is_refused_and_the_old_text_stays(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = post_comment(client, article.cms_id, CLEAN).get_json()
    before = counters(db, article, author)

    response = _patch(client, comment["id"], REJECT_TEXT)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "edit_rejected"
    assert error["details"] == {"comment_id": comment["id"], "reasons": ["racisme"]}
    stored = reload(db, Comment, comment["id"])
    assert (stored.state, stored.body, stored.edited_at) == (CommentState.PUBLISHED, CLEAN, None)
    assert changes(before, counters(db, article, author)) == {}
    assert len(audit_trail(db, stored.id)) == 1
    assert_no_drift(db)


def test_edit_after_the_window_is_409(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = create_comment(
        db, article, author, CommentState.PUBLISHED, created_at=utcnow() - timedelta(minutes=11)
    )

    response = _patch(client, comment.id, CLEAN_TEXTS[5])

    assert response.status_code == 409
    assert error_code(response) == "edit_window_closed"
    assert reload(db, Comment, comment.id).body == CLEAN


@pytest.fixture
def one_minute_edit_window(app_settings: dict[str, Any]) -> None:
    app_settings["TRIBUNE_EDIT_WINDOW_SECONDS"] = 60


def test_edit_window_comes_from_the_settings(
    one_minute_edit_window: None,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    user = make_user()
    login(client, user)
    article = make_article()
    recent = create_comment(
        db, article, user, CommentState.PUBLISHED, created_at=utcnow() - timedelta(seconds=30)
    )
    older = create_comment(
        db,
        article,
        user,
        CommentState.PUBLISHED,
        body=CLEAN_TEXTS[0],
        created_at=utcnow() - timedelta(seconds=90),
    )

    assert _patch(client, recent.id, CLEAN_TEXTS[6]).status_code == 200
    response = _patch(client, older.id, CLEAN_TEXTS[7])
    assert response.status_code == 409
    assert error_code(response) == "edit_window_closed"


def test_editing_someone_elses_comment_is_403(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    other = create_comment(db, article, make_user(), CommentState.PUBLISHED)

    response = _patch(client, other.id, CLEAN_TEXTS[8])

    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert reload(db, Comment, other.id).body == CLEAN


@pytest.mark.parametrize(
    ("state", "status", "code"),
    [
        (CommentState.REJECTED, 409, "not_editable"),
        (CommentState.REMOVED, 409, "not_editable"),
        (CommentState.DELETED, 404, "comment_not_found"),
    ],
)
def test_editing_a_comment_that_is_gone_is_refused(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    state: CommentState,
    status: int,
    code: str,
) -> None:
    comment = create_comment(db, article, author, state)

    response = _patch(client, comment.id, CLEAN_TEXTS[9])

    assert response.status_code == status
    assert error_code(response) == code
    assert reload(db, Comment, comment.id).body == CLEAN


def test_editing_a_held_comment_keeps_it_held(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = post_comment(client, article.cms_id, HOLD_TEXT).get_json()
    before = counters(db, article, author)

    response = _patch(client, comment["id"], CLEAN_TEXTS[10])

    assert response.status_code == 202
    assert response.get_json()["state"] == "held"
    assert reload(db, Comment, comment["id"]).body == CLEAN_TEXTS[10]
    assert changes(before, counters(db, article, author)) == {}
    assert_no_drift(db)


def test_edit_body_is_validated_like_a_new_comment(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    comment = post_comment(client, article.cms_id, CLEAN).get_json()

    response = _patch(client, comment["id"], " x ")

    assert response.status_code == 422
    assert error_code(response) == "body_too_short"
    assert reload(db, Comment, comment["id"]).body == CLEAN


# ---------------------------------------------------------------- deleting


def test_delete_is_soft_and_replies_stay_visible(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    root = post_comment(client, article.cms_id, CLEAN_TEXTS[0]).get_json()
    replier = make_user()
    reply = create_comment(
        db,
        article,
        replier,
        CommentState.PUBLISHED,
        body=CLEAN_TEXTS[1],
        parent=reload(db, Comment, root["id"]),
    )
    before = counters(db, article, author)

    response = _delete(client, root["id"])

    assert response.status_code == 200
    assert response.get_json() == {"id": root["id"], "state": "deleted"}
    stored = reload(db, Comment, root["id"])
    assert (stored.state, stored.body) == (CommentState.DELETED, CLEAN_TEXTS[0])
    assert audit_trail(db, stored.id)[-1] == ("delete", "published", "deleted", author.id)
    assert changes(before, counters(db, article, author)) == state_change(
        "published", "deleted", "delete"
    )
    listing = client.get(comments_url(article.cms_id)).get_json()
    assert listing["count"] == 1
    [thread] = listing["comments"]
    assert (thread["id"], thread["deleted"], thread["body"], thread["author"]) == (
        root["id"],
        True,
        None,
        None,
    )
    [shown_reply] = thread["replies"]
    assert (shown_reply["id"], shown_reply["body"], shown_reply["deleted"]) == (
        reply.id,
        CLEAN_TEXTS[1],
        False,
    )
    assert shown_reply["author"] == replier.username
    assert_no_drift(db)


def test_deleting_someone_elses_comment_is_403(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    other = create_comment(db, article, make_user(), CommentState.PUBLISHED)

    response = _delete(client, other.id)

    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert reload(db, Comment, other.id).state is CommentState.PUBLISHED
    assert_no_drift(db)


def test_deleting_a_missing_comment_is_404(shared: SharedApp) -> None:
    response = _delete(shared.client, 987654)

    assert response.status_code == 404
    assert error_code(response) == "comment_not_found"


def test_anonymous_cannot_delete_401(shared: SharedApp) -> None:
    response = _delete(shared.anonymous(), shared.comment.id)

    assert response.status_code == 401
    assert error_code(response) == "login_required"
    assert reload(shared.db, Comment, shared.comment.id).state is CommentState.PUBLISHED


def test_anonymous_cannot_edit_401(shared: SharedApp) -> None:
    response = _patch(shared.anonymous(), shared.comment.id, CLEAN_TEXTS[0])

    assert response.status_code == 401
    assert error_code(response) == "login_required"
    assert reload(shared.db, Comment, shared.comment.id).body == CLEAN


# ---------------------------------------------------------------- thread listing


@pytest.fixture
def five_threads(db: Session, article: Article, make_user: Callable[..., User]) -> list[Comment]:
    """Five published top-level comments, a minute apart, oldest first."""
    writer = make_user()
    start = utcnow() - timedelta(hours=1)
    return [
        create_comment(
            db,
            article,
            writer,
            CommentState.PUBLISHED,
            body=CLEAN_TEXTS[i],
            created_at=start + timedelta(minutes=i),
        )
        for i in range(5)
    ]


def test_threads_are_paginated_newest_first_by_default(
    client: FlaskClient, article: Article, five_threads: list[Comment]
) -> None:
    pages = [
        client.get(comments_url(article.cms_id), query_string={"per_page": 2, "page": page})
        for page in (1, 2, 3, 4)
    ]

    assert [p.status_code for p in pages] == [200] * 4
    bodies = [p.get_json() for p in pages]
    ids = [[c["id"] for c in body["comments"]] for body in bodies]
    newest = [c.id for c in reversed(five_threads)]
    assert ids == [newest[0:2], newest[2:4], newest[4:5], []]
    for number, body in enumerate(bodies, start=1):
        assert (body["page"], body["per_page"], body["pages"], body["total_threads"]) == (
            number,
            2,
            3,
            5,
        )
        assert body["count"] == 5
        assert body["article_id"] == article.cms_id


def test_threads_oldest_first(
    client: FlaskClient, article: Article, five_threads: list[Comment]
) -> None:
    response = client.get(comments_url(article.cms_id), query_string={"sort": "oldest"})

    assert response.status_code == 200
    body = response.get_json()
    assert [c["id"] for c in body["comments"]] == [c.id for c in five_threads]
    assert (body["page"], body["per_page"], body["pages"]) == (1, 20, 1)


def test_held_and_rejected_comments_are_not_listed_for_anyone(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    shown = create_comment(db, article, make_user(), CommentState.PUBLISHED)
    create_comment(db, article, author, CommentState.HELD, body=HOLD_TEXT)
    create_comment(db, article, author, CommentState.REJECTED, body=REJECT_TEXT)
    create_comment(db, article, author, CommentState.REMOVED, body=CLEAN_TEXTS[2])
    create_comment(db, article, author, CommentState.HELD, body=CLEAN_TEXTS[3], parent=shown)

    as_author = client.get(comments_url(article.cms_id)).get_json()
    client.post("/logout")
    anonymous = make_user()  # and another reader
    login(client, anonymous)
    as_other = client.get(comments_url(article.cms_id)).get_json()

    for listing in (as_author, as_other):
        assert [c["id"] for c in listing["comments"]] == [shown.id]
        assert listing["comments"][0]["replies"] == []
        assert (listing["count"], listing["total_threads"]) == (1, 1)
    assert_no_drift(db)


@pytest.mark.parametrize(
    "query",
    [
        {"page": "0"},
        {"page": "-1"},
        {"page": "een"},
        {"page": "100001"},
        {"per_page": "0"},
        {"per_page": "101"},
        {"per_page": "1.5"},
        {"sort": "random"},
        {"page": "²"},
    ],
    ids=lambda q: "-".join(f"{k}={v}" for k, v in q.items()),
)
def test_invalid_listing_parameters_are_422(shared: SharedApp, query: dict[str, str]) -> None:
    response = shared.anonymous().get(comments_url(shared.article.cms_id), query_string=query)

    assert response.status_code == 422
    assert error_code(response) == "invalid_parameter"


def test_listing_an_unknown_article_is_404(shared: SharedApp) -> None:
    response = shared.anonymous().get(comments_url("bestaat-niet"))

    assert response.status_code == 404
    assert error_code(response) == "article_not_found"


@pytest.mark.parametrize("article_id", ["niet,geldig", "a" * 65, "spatie%20erin", "punt.id"])
def test_listing_an_invalid_article_id_is_422(shared: SharedApp, article_id: str) -> None:
    response = shared.anonymous().get(comments_url(article_id))

    assert response.status_code == 422
    assert error_code(response) == "invalid_article_id"


# ---------------------------------------------------------------- one's own comments


def test_own_comments_show_held_and_rejected_with_their_reasons(
    client: FlaskClient,
    db: Session,
    author: User,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    published = post_comment(client, article.cms_id, CLEAN).get_json()["id"]
    held = post_comment(client, article.cms_id, HOLD_TEXT).get_json()["id"]
    rejected = post_comment(client, article.cms_id, REJECT_TEXT).get_json()["error"]["details"][
        "comment_id"
    ]
    create_comment(db, article, make_user(), CommentState.PUBLISHED, body=CLEAN_TEXTS[0])

    response = client.get("/api/v1/me/comments")

    assert response.status_code == 200
    assert "no-store" in response.headers["Cache-Control"]
    assert "private" in response.headers["Cache-Control"]
    mine = {c["id"]: c for c in response.get_json()["comments"]}
    assert set(mine) == {published, held, rejected}
    assert (mine[published]["state"], mine[published]["reasons"]) == ("published", [])
    assert mine[held]["state"] == "held"
    assert mine[held]["reasons"] == ["beledigend", "andere"]
    assert mine[held]["decision_reason"] is None
    assert mine[rejected]["state"] == "rejected"
    assert mine[rejected]["reasons"] == ["racisme"]
    assert mine[rejected]["decision_reason"] == "racisme"
    assert mine[rejected]["body"] == REJECT_TEXT
    assert {c["article_id"] for c in mine.values()} == {article.cms_id}


def test_own_comments_need_a_login(shared: SharedApp) -> None:
    response = shared.anonymous().get("/api/v1/me/comments")

    assert response.status_code == 401
    assert error_code(response) == "login_required"


def test_flags_are_stored_with_the_comment(
    client: FlaskClient, db: Session, author: User, article: Article
) -> None:
    text = "Kijk op https://example.com/x voor info"
    response = post_comment(client, article.cms_id, text)

    assert response.status_code == 202
    [link, new_account] = db.scalars(
        select(Flag).where(Flag.comment_id == response.get_json()["id"]).order_by(Flag.id)
    ).all()
    assert (link.code, link.reason.value, link.severity, link.detail) == (
        "link",
        "spam",
        20,
        "example.com",
    )
    assert text[link.span_start : link.span_end] == "https://example.com/x"
    assert (new_account.code, new_account.span_start) == ("new_account", None)
