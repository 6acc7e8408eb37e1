"""Staff authority (issue 15, point 1): lifting a suspension takes the authority imposing it
took, nobody acts on their own account or decides on their own comment, and suspended or banned
staff lose staff access while it lasts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from accounts.services import create_api_token, token_scopes_for
from models import Appeal, AppealState, Article, CommentState, Role, User, utcnow
from moderation import actions
from tests.conftest import client_for, get_user
from tests.factories import (
    ORIGIN,
    create_comment,
    error_code,
    fresh,
    reload,
)

JSON = {"Accept": "application/json"}
OWN_COMMENT_MESSAGE = "Over je eigen reactie beslist een andere moderator."


pytestmark = pytest.mark.usefixtures("own_redis_keys")


def headers(as_json: bool) -> dict[str, str]:
    return JSON if as_json else {}


def suspend(client: FlaskClient, user: User) -> Any:
    return client.post(
        f"/moderatie/gebruikers/{user.id}/schorsen",
        data={"duration": "7d", "reason": "andere"},
        headers=JSON,
    )


def lift(client: FlaskClient, user: User, as_json: bool = True) -> Any:
    return client.post(f"/moderatie/gebruikers/{user.id}/opheffen", headers=headers(as_json))


def banned(db: Session, user: User) -> bool:
    return get_user(db, user.username).is_banned(utcnow())


# ---------------------------------------------------------------- lifting takes the same authority


@pytest.mark.parametrize("as_json", [True, False], ids=["api", "page"])
@pytest.mark.parametrize(
    ("imposer", "target", "lifter", "status"),
    [
        # A moderator's suspension of a fan: any moderator (or an admin) may lift it.
        (Role.MODERATOR, Role.FAN, Role.MODERATOR, 200),
        (Role.MODERATOR, Role.FAN, Role.ADMIN, 200),
        # An admin's suspension: only an admin lifts it, even of a fan.
        (Role.ADMIN, Role.FAN, Role.MODERATOR, 403),
        (Role.ADMIN, Role.FAN, Role.ADMIN, 200),
        # Staff are suspended only by an admin, and only an admin lifts it.
        (Role.ADMIN, Role.MODERATOR, Role.MODERATOR, 403),
        (Role.ADMIN, Role.EDITOR, Role.MODERATOR, 403),
        (Role.ADMIN, Role.ADMIN, Role.MODERATOR, 403),
        (Role.ADMIN, Role.MODERATOR, Role.ADMIN, 200),
    ],
)
def test_lifting_needs_the_authority_imposing_took(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    imposer: Role,
    target: Role,
    lifter: Role,
    status: int,
    as_json: bool,
) -> None:
    victim = make_user(target)
    assert suspend(client_for(app, make_user(imposer)), victim).status_code == 200

    response = lift(client_for(app, make_user(lifter)), victim, as_json)

    assert response.status_code == (status if as_json or status == 403 else 303)
    if status == 403:
        if as_json:
            assert error_code(response) == "forbidden"
        else:
            assert "Enkel een beheerder" in response.get_data(as_text=True)
        assert banned(db, victim)
    else:
        assert not banned(db, victim)


def test_a_suspension_whose_author_is_gone_is_lifted_by_an_admin_only(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    imposer, fan = make_user(Role.MODERATOR), make_user()
    assert suspend(client_for(app, imposer), fan).status_code == 200
    fresh(db)
    db.delete(reload(db, User, imposer.id))
    db.commit()

    refused = lift(client_for(app, make_user(Role.MODERATOR)), fan)
    lifted = lift(client_for(app, make_user(Role.ADMIN)), fan)

    assert refused.status_code == 403
    assert error_code(refused) == "forbidden"
    assert lifted.status_code == 200


@pytest.mark.parametrize("target", [Role.MODERATOR, Role.EDITOR, Role.ADMIN])
def test_only_an_admin_suspends_staff(
    app: Flask, db: Session, make_user: Callable[..., User], target: Role
) -> None:
    victim = make_user(target)

    response = suspend(client_for(app, make_user(Role.MODERATOR)), victim)

    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert not banned(db, victim)


# ---------------------------------------------------------------- nobody acts on their own account


@pytest.mark.parametrize("as_json", [True, False], ids=["api", "page"])
@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("schorsen", {"duration": "24h", "reason": "andere"}),
        ("opheffen", {}),
        ("notities", {"body": "Ik ben een goede moderator."}),
    ],
)
@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_nobody_acts_on_their_own_account(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    role: Role,
    action: str,
    data: dict[str, str],
    as_json: bool,
) -> None:
    actor = make_user(role)

    response = client_for(app, actor).post(
        f"/moderatie/gebruikers/{actor.id}/{action}", data=data, headers=headers(as_json)
    )

    assert response.status_code == 403
    if as_json:
        assert error_code(response) == "own_account"
    else:
        page = response.get_data(as_text=True)
        assert "eigen" in page
        assert "own_account" not in page  # the code is shown by its Dutch label
    assert not banned(db, actor)


def test_an_admin_cannot_lift_their_own_suspension_in_the_service(
    db: Session, make_user: Callable[..., User]
) -> None:
    """Even past the staff guard (a direct call), lifting one's own suspension is refused."""
    admin = make_user(Role.ADMIN, banned_until=utcnow() + timedelta(days=7))

    with pytest.raises(actions.DomainError) as refused:
        actions.lift_ban(db, admin, admin.id)

    assert (refused.value.status_code, refused.value.code) == (403, "own_account")


# ---------------------------------------------------------------- suspended staff are not staff


STAFF_PAGES = [
    (Role.MODERATOR, "/moderatie/"),
    (Role.MODERATOR, "/moderatie/statistieken"),
    (Role.ADMIN, "/moderatie/"),
    (Role.EDITOR, "/redactie/"),
    (Role.ADMIN, "/redactie/"),
    (Role.EDITOR, "/beheer/wedstrijddag"),
    (Role.ADMIN, "/beheer/"),
]


@pytest.mark.parametrize("permanent", [False, True], ids=["suspended", "banned"])
@pytest.mark.parametrize(("role", "path"), STAFF_PAGES)
def test_suspended_staff_lose_staff_pages_while_it_lasts(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    role: Role,
    path: str,
    permanent: bool,
) -> None:
    until = actions.permanent_until() if permanent else utcnow() + timedelta(days=1)
    user = make_user(role, banned_until=until)
    client = client_for(app, user)

    page = client.get(path)
    as_json = client.get(path, headers=JSON)
    profile = client.get("/profiel")

    assert page.status_code == 403
    assert "Je bent geschorst" in page.get_data(as_text=True)
    assert "staff_suspended" not in page.get_data(as_text=True)
    assert as_json.status_code == 403
    assert error_code(as_json) == "staff_suspended"
    assert profile.status_code == 200  # still a logged-in user, like a suspended fan

    fresh(db)
    reload(db, User, user.id).banned_until = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get(path).status_code == 200


def test_a_suspended_moderator_cannot_lift_their_own_suspension(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    moderator = make_user(Role.MODERATOR)
    assert suspend(client_for(app, make_user(Role.ADMIN)), moderator).status_code == 200

    response = lift(client_for(app, moderator), moderator)

    assert response.status_code == 403
    assert error_code(response) == "staff_suspended"
    assert banned(db, moderator)


def test_a_suspended_editor_token_loses_the_api(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR, banned_until=utcnow() + timedelta(days=1))
    _, plain = create_api_token(db, editor, "cms", token_scopes_for(editor.role))
    db.commit()

    response = client.put(
        "/api/v1/articles/nl-schorsing",
        json={"title": "Geschorst"},
        headers={"Authorization": f"Bearer {plain}"},
    )

    assert response.status_code == 403
    assert error_code(response) == "staff_suspended"


# ------------------------------------------------------- nobody decides on their own comment


DECISIONS = [
    ("goedkeuren", CommentState.HELD, {}),
    ("afwijzen", CommentState.HELD, {"reason": "spam"}),
    ("verwijderen", CommentState.PUBLISHED, {"reason": "spam"}),
    ("herstellen", CommentState.REJECTED, {}),
    ("meldingen-afwijzen", CommentState.PUBLISHED, {}),
]


@pytest.mark.parametrize("as_json", [True, False], ids=["api", "page"])
@pytest.mark.parametrize(("action", "state", "data"), DECISIONS, ids=[d[0] for d in DECISIONS])
@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ADMIN])
def test_nobody_decides_on_their_own_comment(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    role: Role,
    action: str,
    state: CommentState,
    data: dict[str, str],
    as_json: bool,
) -> None:
    author, colleague = make_user(role), make_user(Role.MODERATOR)
    comment = create_comment(db, make_article(), author, state, actor=colleague)
    if action == "meldingen-afwijzen":
        reported = client_for(app, make_user()).post(
            f"/api/v1/comments/{comment.id}/reports", json={"reason": "spam"}, headers=ORIGIN
        )
        assert reported.status_code == 201
    url = f"/moderatie/reacties/{comment.id}/{action}"

    refused = client_for(app, author).post(url, data=data, headers=headers(as_json))

    assert refused.status_code == 403
    if as_json:
        assert error_code(refused) == "own_comment"
    else:
        assert OWN_COMMENT_MESSAGE in refused.get_data(as_text=True)
    fresh(db)
    assert reload(db, type(comment), comment.id).state is state
    # A colleague may.
    assert client_for(app, colleague).post(url, data=data, headers=JSON).status_code == 200


def test_bulk_skips_ones_own_comments(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    moderator, fan = make_user(Role.MODERATOR), make_user()
    article = make_article()
    own = create_comment(db, article, moderator, CommentState.HELD)
    other = create_comment(db, article, fan, CommentState.HELD)

    response = client_for(app, moderator).post(
        "/moderatie/bulk", data={"ids": [own.id, other.id], "action": "approve"}, headers=JSON
    )

    assert response.status_code == 200
    assert response.get_json()["done"] == [other.id]
    assert response.get_json()["refused"] == {str(own.id): "own_comment"}


@pytest.mark.parametrize("as_json", [True, False], ids=["api", "page"])
@pytest.mark.parametrize("decision", ["uphold", "deny"])
def test_nobody_decides_an_appeal_on_their_own_comment(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    decision: str,
    as_json: bool,
) -> None:
    moderator, colleague = make_user(Role.MODERATOR), make_user(Role.MODERATOR)
    comment = create_comment(db, make_article(), moderator, CommentState.REJECTED, actor=colleague)
    appeal_client = client_for(app, moderator)
    filed = appeal_client.post(
        f"/api/v1/comments/{comment.id}/appeal",
        json={"body": "Dit was een citaat van de trainer."},
        headers=ORIGIN,
    )
    assert filed.status_code == 201
    appeal_id = filed.get_json()["id"]
    url = f"/moderatie/bezwaren/{appeal_id}"

    refused = appeal_client.post(url, data={"decision": decision}, headers=headers(as_json))

    assert refused.status_code == 403
    if as_json:
        assert error_code(refused) == "own_comment"
    else:
        assert OWN_COMMENT_MESSAGE in refused.get_data(as_text=True)
    fresh(db)
    assert reload(db, Appeal, appeal_id).state is AppealState.PENDING
    done = client_for(app, colleague).post(url, data={"decision": decision}, headers=JSON)
    assert done.status_code == 200
