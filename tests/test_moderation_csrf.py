"""CSRF on every moderator action: each POST under /moderatie/ (from the URL map) without the
form's token is refused with 400 and changes nothing; with the token it goes through."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import create_app
from comments.services import report_comment
from dsa.complaints import file_complaint
from dsa.links import complaint_token
from dsa.notices import NoticeInput, decide_notice, file_notice
from models import (
    Appeal,
    Article,
    Comment,
    CommentState,
    LexiconAction,
    LexiconEntry,
    ModerationAction,
    Role,
    User,
    UserNote,
    utcnow,
)
from moderation import actions
from moderation.rules import PostingPolicy
from moderation.runtime import add_entry
from tests.conftest import TEST_PASSWORD
from tests.factories import create_comment, fresh, unique_redis_prefix

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _post_rules() -> list[str]:
    app = create_app(
        {
            "DATABASE_URL": "sqlite://",
            "SECRET_KEY": "collection",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
            "TRIBUNE_RATELIMIT_ENABLED": False,
        }
    )
    rules = sorted(
        rule.rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/moderatie") and "POST" in (rule.methods or ())
    )
    app.extensions["tribune.engine"].dispose()
    return rules


POST_RULES = _post_rules()


@pytest.fixture(autouse=True)
def _csrf_on(app_settings: dict[str, Any]) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True
    unique_redis_prefix(app_settings)


def token_from(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    match = CSRF_FIELD.search(response.get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def login_with_token(client: FlaskClient, user: User) -> None:
    token = token_from(client, "/login")
    response = client.post(
        "/login", data={"login": user.username, "password": TEST_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302


@pytest.fixture
def targets(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> dict[str, int]:
    """Rows each action can legally act on, so only a missing token can refuse it."""
    author, reader, article = make_user(), make_user(), make_article()
    banned = make_user(banned_until=utcnow() + timedelta(days=1))
    held = create_comment(db, article, author, CommentState.HELD)
    rejected = create_comment(db, article, author, CommentState.REJECTED)
    reported = create_comment(db, article, author, CommentState.PUBLISHED)
    report_comment(db, reported.id, reader, "spam", None, PostingPolicy())
    appealed = create_comment(db, article, author, CommentState.REJECTED)
    appeal = actions.file_appeal(db, author, appealed.id, "Dit klopt echt niet.")
    entry, _ = add_entry(db, author, LexiconAction.ALLOW, "stadionbier")
    noticed = create_comment(db, article, author, CommentState.PUBLISHED)
    notice = file_notice(
        db,
        noticed.id,
        NoticeInput("kindermisbruik", "Anoniem gemeld: illegale inhoud.", good_faith=True),
        None,
    )
    complained = create_comment(db, article, author, CommentState.PUBLISHED)
    kept = file_notice(
        db,
        complained.id,
        NoticeInput("kindermisbruik", "Anoniem gemeld: illegale inhoud.", good_faith=True),
        None,
    )
    decide_notice(db, make_user(Role.MODERATOR), kept.id, "no_action")
    file_complaint(db, complaint_token(db, kept), "Dit is wel degelijk illegaal, kijk opnieuw.")
    db.commit()
    return {
        "held": held.id,
        "rejected": rejected.id,
        "reported": reported.id,
        "user_id": author.id,
        "banned": banned.id,
        "appeal_id": appeal.id,
        "entry_id": entry.id,
        "notice_id": notice.id,
        "complained_notice": kept.id,
    }


# Which row a rule acts on, where that is not the parameter's own name.
TARGET_OF = {
    "herstellen": "rejected",
    "verwijderen": "reported",
    "meldingen-afwijzen": "reported",
    "opheffen": "banned",
}


def request_for(rule: str, targets: dict[str, int]) -> tuple[str, dict[str, Any]]:
    """The path and a form the action accepts."""
    last = rule.rsplit("/", 1)[-1]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "comment_id":
            name = TARGET_OF.get(last, "held")
        elif name == "user_id":
            name = TARGET_OF.get(last, "user_id")
        elif name == "notice_id" and last == "bezwaar":
            name = "complained_notice"
        return str(targets[name])

    form = {
        "reason": "spam",
        "duration": "24h",
        "body": "Notitie",
        "decision": "removed" if "meldingen-dsa" in rule and last != "bezwaar" else "uphold",
        "action": "approve" if last == "bulk" else "allow",
        "word": "scheidsrechterbril",
        "ids": str(targets["held"]),
    }
    return re.sub(r"<int:(\w+)>", value, rule), form


def snapshot(db: Session) -> tuple[Any, ...]:
    """Everything a moderator action can change."""
    fresh(db)
    return (
        sorted((c.id, c.state.value, c.report_count) for c in db.scalars(select(Comment))),
        sorted((u.id, u.banned_until) for u in db.scalars(select(User))),
        sorted((a.id, a.state.value) for a in db.scalars(select(Appeal))),
        sorted((e.id, e.word) for e in db.scalars(select(LexiconEntry))),
        db.scalar(select(func.count()).select_from(UserNote)),
        db.scalar(select(func.count()).select_from(ModerationAction)),
    )


def test_every_moderator_action_is_in_the_list() -> None:
    assert len(POST_RULES) >= 12
    assert "/moderatie/bulk" in POST_RULES
    assert "/moderatie/reacties/<int:comment_id>/goedkeuren" in POST_RULES


@pytest.mark.parametrize("rule", POST_RULES)
def test_a_moderator_action_without_its_token_is_refused(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    targets: dict[str, int],
    rule: str,
) -> None:
    login_with_token(client, make_user(Role.ADMIN))
    before = snapshot(db)
    path, form = request_for(rule, targets)

    response = client.post(path, data=form)

    assert response.status_code == 400
    assert "Je formulier is verlopen of ongeldig" in response.get_data(as_text=True)
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("token", "accept"),
    [(None, "application/json"), ("vervalst.token", "text/html")],
    ids=["missing-json", "forged"],
)
def test_a_missing_or_forged_token_is_refused_for_scripts_too(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    targets: dict[str, int],
    token: str | None,
    accept: str,
) -> None:
    login_with_token(client, make_user(Role.MODERATOR))
    before = snapshot(db)
    path, form = request_for("/moderatie/bulk", targets)
    if token:
        form["csrf_token"] = token

    response = client.post(path, data=form, headers={"Accept": accept})

    assert response.status_code == 400
    if accept == "application/json":
        assert response.get_json()["error"]["code"] == "csrf_failed"
    assert snapshot(db) == before


@pytest.mark.parametrize("rule", POST_RULES)
def test_with_the_pages_token_the_action_goes_through(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    targets: dict[str, int],
    rule: str,
) -> None:
    login_with_token(client, make_user(Role.ADMIN))
    token = token_from(client, "/moderatie/")
    before = snapshot(db)
    path, form = request_for(rule, targets)

    response = client.post(
        path,
        data={**form, "csrf_token": token},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["ok"] is True
    assert snapshot(db) != before
