"""Suspensions and bans from /moderatie/: who may, what they block, lifting and expiry; notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Comment, CommentState, ModerationAction, Role, User, utcnow
from tests.conftest import client_for, get_user, login
from tests.factories import (
    CLEAN_TEXTS,
    assert_no_drift,
    audit_rows,
    changes,
    counters,
    create_comment,
    error_code,
    fresh,
    post_comment,
)

JSON = {"Accept": "application/json"}
DURATIONS = {"24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}


pytestmark = pytest.mark.usefixtures("own_redis_keys")


def ban(client: FlaskClient, user: User, **form: Any) -> Any:
    return client.post(f"/moderatie/gebruikers/{user.id}/schorsen", data=form, headers=JSON)


def lift(client: FlaskClient, user: User) -> Any:
    return client.post(f"/moderatie/gebruikers/{user.id}/opheffen", headers=JSON)


def user_rows(db: Session, user: User) -> list[tuple[Any, ...]]:
    fresh(db)
    rows = db.scalars(
        select(ModerationAction)
        .where(ModerationAction.target_type == "user", ModerationAction.target_id == str(user.id))
        .order_by(ModerationAction.id)
    )
    return [(r.actor_id, r.action, r.from_state, r.to_state, r.reason_code, r.note) for r in rows]


@pytest.fixture
def cast(
    app: Flask, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> tuple[FlaskClient, User, FlaskClient, User, Article]:
    """A logged-in moderator and a logged-in fan, and an article to post on."""
    moderator, fan = make_user(Role.MODERATOR), make_user()
    return client_for(app, moderator), moderator, client_for(app, fan), fan, make_article()


@pytest.mark.parametrize("duration", ["24h", "7d", "30d"])
def test_a_suspension_blocks_posting_until_its_end(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session, duration: str
) -> None:
    mod_client, moderator, fan_client, fan, article = cast
    start = utcnow()

    response = ban(mod_client, fan, duration=duration, reason="beledigend", note="Derby")
    posted = post_comment(fan_client, article.cms_id, CLEAN_TEXTS[0])

    assert response.status_code == 200
    assert response.get_json()["user_id"] == fan.id
    banned = get_user(db, fan.username)
    assert start + DURATIONS[duration] <= banned.banned_until <= utcnow() + DURATIONS[duration]
    assert banned.ban_reason == "Beledigend: Derby"
    assert posted.status_code == 403
    assert error_code(posted) == "banned"
    details = posted.get_json()["error"]["details"]
    assert datetime.fromisoformat(details["banned_until"]) == banned.banned_until
    assert details["reason"] == "Beledigend: Derby"
    assert user_rows(db, fan) == [
        (moderator.id, f"suspend_{duration}", "active", "banned", "beledigend", "Derby")
    ]
    fresh(db)
    assert db.scalars(select(Comment)).all() == []


def test_a_permanent_ban_blocks_posting_with_no_end(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session
) -> None:
    mod_client, moderator, fan_client, fan, article = cast

    response = ban(mod_client, fan, duration="permanent", reason="racisme")
    # A ban signs the fan out everywhere; a banned fan may still sign in and is told why.
    assert fan_client.get("/profiel").status_code == 302
    login(fan_client, fan)
    posted = post_comment(fan_client, article.cms_id, CLEAN_TEXTS[0])
    page_post = fan_client.post(
        f"/artikels/{article.cms_id}/reacties", data={"body": CLEAN_TEXTS[1]}
    )

    assert response.status_code == 200
    assert get_user(db, fan.username).banned_until.year == 9999
    assert posted.status_code == 403
    assert error_code(posted) == "banned"
    assert posted.get_json()["error"]["details"]["banned_until"] is None
    # The article page comes back (403) with why, and the refused text still in the form.
    assert page_post.status_code == 403
    assert "permanent verbannen" in page_post.get_data(as_text=True)
    assert CLEAN_TEXTS[1] in page_post.get_data(as_text=True)
    assert user_rows(db, fan) == [(moderator.id, "ban", "active", "banned", "racisme", None)]


def test_a_second_ban_records_that_the_user_was_already_banned(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session
) -> None:
    mod_client, moderator, _, fan, _ = cast
    ban(mod_client, fan, duration="24h", reason="spam")

    response = ban(mod_client, fan, duration="permanent", reason="spam")

    assert response.status_code == 200
    assert [row[1:4] for row in user_rows(db, fan)] == [
        ("suspend_24h", "active", "banned"),
        ("ban", "banned", "banned"),
    ]


@pytest.mark.parametrize("reject_held", [True, False])
def test_banning_can_reject_all_held_comments_of_the_author(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article],
    db: Session,
    make_user: Callable[..., User],
    reject_held: bool,
) -> None:
    mod_client, moderator, _, fan, article = cast
    held = [create_comment(db, article, fan, CommentState.HELD) for _ in range(2)]
    published = create_comment(db, article, fan, CommentState.PUBLISHED)
    other = create_comment(db, article, make_user(), CommentState.HELD)
    before = counters(db, article, fan)

    form = {"duration": "7d", "reason": "spam"}
    response = ban(mod_client, fan, **form, **({"reject_held": "on"} if reject_held else {}))

    assert response.status_code == 200
    fresh(db)
    states = [db.get(Comment, c.id).state for c in (*held, published, other)]
    if reject_held:
        assert states == [CommentState.REJECTED] * 2 + [CommentState.PUBLISHED, CommentState.HELD]
        for comment in held:
            row = audit_rows(db, comment.id)[-1]
            assert (row.actor_id, row.action, row.from_state, row.to_state, row.reason_code) == (
                moderator.id,
                "reject",
                "held",
                "rejected",
                "spam",
            )
            assert row.note == "bij schorsing van de auteur"
        assert changes(before, counters(db, article, fan)) == {
            "held": -2,
            "queue:held": -2,
            "rejected": 2,
            "queue:rejected": 2,
        }
    else:
        assert states == [CommentState.HELD] * 2 + [CommentState.PUBLISHED, CommentState.HELD]
        assert changes(before, counters(db, article, fan)) == {}
    assert_no_drift(db)


def test_lifting_a_ban_lets_the_author_post_again(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session
) -> None:
    mod_client, moderator, fan_client, fan, article = cast
    ban(mod_client, fan, duration="30d", reason="beledigend")
    assert post_comment(fan_client, article.cms_id, CLEAN_TEXTS[0]).status_code == 403

    lifted = lift(mod_client, fan)
    posted = post_comment(fan_client, article.cms_id, CLEAN_TEXTS[1])
    again = lift(mod_client, fan)

    assert lifted.status_code == 200
    assert posted.status_code == 201, posted.get_data(as_text=True)
    assert again.status_code == 409
    assert error_code(again) == "not_banned"
    stored = get_user(db, fan.username)
    assert (stored.banned_until, stored.ban_reason) == (None, None)
    assert user_rows(db, fan)[-1] == (moderator.id, "lift_ban", "banned", "active", None, None)


def test_an_expired_suspension_no_longer_blocks_posting(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session
) -> None:
    mod_client, _, fan_client, fan, article = cast
    ban(mod_client, fan, duration="24h", reason="spam")
    assert post_comment(fan_client, article.cms_id, CLEAN_TEXTS[0]).status_code == 403
    fresh(db)
    stored = db.get(User, fan.id)
    stored.banned_until = utcnow() - timedelta(seconds=1)
    db.commit()

    posted = post_comment(fan_client, article.cms_id, CLEAN_TEXTS[1])
    lifted = lift(mod_client, fan)

    assert posted.status_code == 201
    assert lifted.status_code == 409
    assert error_code(lifted) == "not_banned"


@pytest.mark.parametrize(
    ("actor_role", "target_role", "status", "code"),
    [
        (Role.MODERATOR, Role.MODERATOR, 403, "forbidden"),
        (Role.MODERATOR, Role.ADMIN, 403, "forbidden"),
        (Role.ADMIN, Role.MODERATOR, 200, None),
        (Role.ADMIN, Role.ADMIN, 200, None),
        (Role.MODERATOR, Role.EDITOR, 403, "forbidden"),
        (Role.ADMIN, Role.EDITOR, 200, None),
    ],
)
def test_only_an_admin_bans_staff(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    actor_role: Role,
    target_role: Role,
    status: int,
    code: str | None,
) -> None:
    actor, target = make_user(actor_role), make_user(target_role)

    response = ban(client_for(app, actor), target, duration="24h", reason="andere")

    assert response.status_code == status
    if code:
        assert error_code(response) == code
        assert get_user(db, target.username).banned_until is None
        assert user_rows(db, target) == []
    else:
        assert get_user(db, target.username).banned_until is not None


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_nobody_bans_themselves(
    app: Flask, db: Session, make_user: Callable[..., User], role: Role
) -> None:
    actor = make_user(role)

    response = ban(client_for(app, actor), actor, duration="permanent", reason="andere")

    assert response.status_code == 403
    assert error_code(response) == "own_account"
    assert get_user(db, actor.username).banned_until is None


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"duration": "1y", "reason": "spam"}, 422, "invalid_duration"),
        ({"duration": "", "reason": "spam"}, 422, "invalid_duration"),
        ({"duration": "24h", "reason": "boos"}, 422, "invalid_reason"),
        ({"duration": "24h"}, 422, "invalid_reason"),
    ],
)
def test_a_ban_needs_a_known_duration_and_reason(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article],
    db: Session,
    form: dict[str, str],
    status: int,
    code: str,
) -> None:
    mod_client, _, _, fan, _ = cast

    response = ban(mod_client, fan, **form)

    assert response.status_code == status
    assert error_code(response) == code
    assert get_user(db, fan.username).banned_until is None
    assert user_rows(db, fan) == []


@pytest.mark.parametrize("path", ["schorsen", "opheffen", "notities"])
def test_decisions_about_an_unknown_user_are_404(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], path: str
) -> None:
    mod_client = cast[0]

    response = mod_client.post(
        f"/moderatie/gebruikers/999999/{path}",
        data={"duration": "24h", "reason": "spam", "body": "Let op"},
        headers=JSON,
    )

    assert response.status_code == 404
    assert error_code(response) == "user_not_found"


# ---------------------------------------------------------------- notes and the author card


def test_a_note_is_audited_and_shown_on_the_author_card(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session
) -> None:
    mod_client, moderator, _, fan, article = cast
    create_comment(db, article, fan, CommentState.HELD)

    response = mod_client.post(
        f"/moderatie/gebruikers/{fan.id}/notities",
        data={"body": "Provoceert <b>elke</b> derby"},
        headers=JSON,
    )
    ban(mod_client, fan, duration="24h", reason="beledigend")
    page = mod_client.get("/moderatie/").get_data(as_text=True)
    user_page = mod_client.get(f"/moderatie/gebruikers/{fan.id}").get_data(as_text=True)

    assert response.status_code == 200
    assert user_rows(db, fan)[0] == (
        moderator.id,
        "add_note",
        None,
        None,
        None,
        "Provoceert <b>elke</b> derby",
    )
    card = page[page.index('<aside class="author-card"') :]
    card = card[: card.index("</aside>")]
    assert "Provoceert &lt;b&gt;elke&lt;/b&gt; derby" in card
    assert "<b>elke</b>" not in card
    assert "1 schorsing(en)" in card
    assert "Geschorst tot" in card
    assert "0 geplaatst · 1 wachtend · 0 afgewezen" in card
    assert "Provoceert &lt;b&gt;elke&lt;/b&gt; derby" in user_page


@pytest.mark.parametrize("body", ["", "   ", "x" * 1001])
def test_an_empty_or_long_note_is_refused(
    cast: tuple[FlaskClient, User, FlaskClient, User, Article], db: Session, body: str
) -> None:
    mod_client, _, _, fan, _ = cast

    response = mod_client.post(
        f"/moderatie/gebruikers/{fan.id}/notities", data={"body": body}, headers=JSON
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_note"
    assert user_rows(db, fan) == []
