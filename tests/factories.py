"""Helpers for the comment tests: texts, comments in any state, API calls and counter checks."""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.services import Registration, register_user
from app import create_app
from db import make_engine
from models import (
    Article,
    Comment,
    CommentState,
    ModerationAction,
    ReasonCode,
    User,
    utcnow,
)
from moderation.comment_states import transition
from moderation.queue import queue_counts
from tallies.recount import recount
from tests.conftest import CHEAP_HASH, TEST_PASSWORD, login, unique_redis_prefix

ORIGIN = {"Origin": "http://localhost"}

# Texts whose screening outcome was checked against moderation.screening.screen when written.
CLEAN = "Mooie goal van Defour!"
HOLD_TEXT = "Wat een kankerscheids vandaag"  # compound_curse "kanker-", beledigend, span 8–21
REJECT_TEXT = "Vuile makakken allemaal"  # slur "makakken", racisme, span 6–14
# Clean texts far enough apart that none is a (near) duplicate of another.
CLEAN_TEXTS = (
    "Sterke match van de verdediging gisteren.",
    "Wanneer speelt KV Mechelen opnieuw thuis?",
    "De trainer moet meer jongeren kansen geven.",
    "Prachtige sfeer in het stadion vanavond.",
    "Die vrije trap in de tweede helft was subliem.",
    "Ik hoop dat Defour nog een seizoen blijft.",
    "Het middenveld mist creativiteit sinds de winterstop.",
    "Volgende week wordt een zware verplaatsing naar Brugge.",
    "Proficiat aan de supporters voor de tifo.",
    "De keeper hield ons overeind met drie reddingen.",
    "Wat een ontknoping in de blessuretijd!",
    "Het veld lag er slecht bij na de regen.",
    "Transfers in januari blijven altijd een gok.",
)

# How to reach each state through the state machine from a new comment: (action, to_state).
PATHS: dict[CommentState, tuple[tuple[str, CommentState], ...]] = {
    CommentState.PUBLISHED: (("post", CommentState.PUBLISHED),),
    CommentState.HELD: (("post", CommentState.HELD),),
    CommentState.REJECTED: (("post", CommentState.REJECTED),),
    CommentState.REMOVED: (("post", CommentState.PUBLISHED), ("remove", CommentState.REMOVED)),
    CommentState.DELETED: (("post", CommentState.PUBLISHED), ("delete", CommentState.DELETED)),
}
REASON_FOR = {CommentState.REJECTED: ReasonCode.RACISME, CommentState.REMOVED: ReasonCode.SPAM}


@contextmanager
def module_database(
    request: pytest.FixtureRequest, template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by one module's tests (copied from the run's template)."""
    if os.environ.get("TRIBUNE_TEST_DATABASE_URL", "").startswith("postgres"):
        server = request.getfixturevalue("postgres_server")
        name = server.create("module", template=template)
        try:
            yield server.url_for(name)
        finally:
            server.drop(name)
        return
    path = tmp_path_factory.mktemp("module") / "tribune.db"
    shutil.copyfile(template, path)
    yield f"sqlite:///{path}"


@dataclass
class SharedApp:
    """One app for the tests of a module that store nothing (validation, refusals)."""

    app: Flask
    db: Session
    article: Article
    reader: User
    writer: User
    comment: Comment  # published, by `writer`
    client: FlaskClient  # logged in as `reader`

    def anonymous(self) -> FlaskClient:
        return self.app.test_client()


@contextmanager
def shared_app(database_url: str) -> Iterator[SharedApp]:
    """Build a SharedApp on `database_url` with the same settings as the `app` fixture."""
    redis_url = os.environ.get("REDIS_URL") or None
    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "TRIBUNE_PASSWORD_METHOD": CHEAP_HASH,
        "WTF_CSRF_ENABLED": False,
        "TRIBUNE_RATELIMIT_ENABLED": False,
        "RATELIMIT_KEY_PREFIX": "tribune-test-" + uuid.uuid4().hex[:8],
        "REDIS_URL": redis_url,
    }
    if not redis_url:
        settings["RATELIMIT_STORAGE_URI"] = "memory://"
    unique_redis_prefix(settings)
    app = create_app(settings)
    session: Session = app.extensions["tribune.sessionmaker"]()
    reader, writer = (
        register_user(
            session, Registration(name, f"{name}@example.test", TEST_PASSWORD), CHEAP_HASH
        )
        for name in ("lezer", "schrijver")
    )
    article = Article(cms_id="gedeeld", title="Gedeeld artikel")
    session.add(article)
    session.commit()
    comment = create_comment(session, article, writer, CommentState.PUBLISHED)
    client = app.test_client()
    login(client, reader)
    try:
        yield SharedApp(app, session, article, reader, writer, comment, client)
    finally:
        session.close()
        app.extensions["tribune.engine"].dispose()


def error_code(response: Any) -> str:
    body = response.get_json()
    assert body is not None and "error" in body, response.get_data(as_text=True)[:300]
    return body["error"]["code"]


def comments_url(article_id: str) -> str:
    return f"/api/v1/articles/{article_id}/comments"


def post_comment(
    client: FlaskClient, article_id: str, body: object, parent_id: object = None
) -> Any:
    """POST a comment through the JSON API as the logged-in client."""
    return client.post(
        comments_url(article_id), json={"body": body, "parent_id": parent_id}, headers=ORIGIN
    )


def create_comment(
    session: Session,
    article: Article,
    author: User,
    state: CommentState,
    body: str = CLEAN,
    parent: Comment | None = None,
    created_at: datetime | None = None,
    actor: User | None = None,
) -> Comment:
    """A committed comment brought into `state` through the state machine (counters included)."""
    when = created_at or utcnow()
    comment = Comment(
        article_id=article.id,
        author_id=author.id,
        parent_id=parent.id if parent else None,
        root_id=(parent.root_id or parent.id) if parent else None,
        depth=parent.depth + 1 if parent else 0,
        body=body,
        created_at=when,
        updated_at=when,
    )
    for action, to_state in PATHS[state]:
        by = author if action == "delete" else (actor if action != "post" else None)
        transition(session, comment, to_state, action, by, reason=REASON_FOR.get(to_state))
    session.commit()
    return comment


def fresh(session: Session) -> None:
    """End the session's snapshot and forget loaded rows, so the next read sees the app's commits.

    (rollback alone expires nothing when no transaction is open, and sessions here keep objects
    loaded across commits.)
    """
    session.rollback()
    session.expire_all()


def audit_rows(session: Session, comment_id: int) -> list[ModerationAction]:
    """The comment's audit trail, oldest first."""
    fresh(session)
    return list(
        session.scalars(
            select(ModerationAction)
            .where(
                ModerationAction.target_type == "comment",
                ModerationAction.target_id == str(comment_id),
            )
            .order_by(ModerationAction.id)
        )
    )


def audit_trail(session: Session, comment_id: int) -> list[tuple[Any, ...]]:
    """(action, from_state, to_state, actor_id) per audit row of the comment."""
    return [
        (row.action, row.from_state, row.to_state, row.actor_id)
        for row in audit_rows(session, comment_id)
    ]


def reload(session: Session, model: type[Any], key: Any) -> Any:
    """A fresh copy of a row as committed by the app."""
    fresh(session)
    return session.get(model, key)


def counters(session: Session, article: Article, author: User) -> Counter[str]:
    """The counters a comment of `author` on `article` moves, by name."""
    fresh(session)
    fresh_article = session.get(Article, article.id)
    fresh_author = session.get(User, author.id)
    assert fresh_article is not None and fresh_author is not None
    values: Counter[str] = Counter(
        article=fresh_article.comment_count,
        published=fresh_author.published_count,
        held=fresh_author.held_count,
        rejected=fresh_author.rejected_count,
    )
    for name, count in queue_counts(session).items():
        values[f"queue:{name}"] = count
    return values


def changes(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    """The counters that moved, with their change."""
    return {
        key: after[key] - before[key]
        for key in sorted(set(before) | set(after))
        if after[key] != before[key]
    }


def state_change(
    from_state: str, to_state: str, action: str = "", reviewed: bool = False
) -> dict[str, int]:
    """What one comment moving between states does to the counters (docs/design.md,
    moderation/comment_states.py).

    A published comment no moderator looked at yet also counts in the "unreviewed" queue: one
    posted straight to published, until a moderator decides on it (`reviewed`).
    """
    delta: Counter[str] = Counter()
    for state, sign in ((from_state, -1), (to_state, +1)):
        if state == "new":
            continue
        delta[f"queue:{state}"] += sign
        if state in ("published", "held", "rejected"):
            delta[state] += sign
        if state == "published":
            delta["article"] += sign
    if from_state == "published" and not reviewed:
        delta["queue:unreviewed"] -= 1
    # Posted, or put back by its author after deleting it, and no moderator looked at it yet.
    if to_state == "published" and (action == "post" or (action == "undelete" and not reviewed)):
        delta["queue:unreviewed"] += 1
    return {key: value for key, value in sorted(delta.items()) if value}


def isolate_and_check(request: pytest.FixtureRequest) -> Iterator[None]:
    """For a test with its own database: its own Redis keys, and no counter drift afterwards."""
    if "app_settings" not in request.fixturenames:
        yield
        return
    settings = request.getfixturevalue("app_settings")
    unique_redis_prefix(settings)
    yield
    engine = make_engine(settings["DATABASE_URL"])
    try:
        with Session(engine) as session:
            assert_no_drift(session)
    finally:
        engine.dispose()


def assert_no_drift(session: Session) -> None:
    """Every counter agrees with the rows it counts (tallies.recount finds nothing to fix)."""
    fresh(session)
    drifts = recount(session)
    session.rollback()
    assert drifts == [], f"counters drifted from their rows: {drifts}"
