"""Flask-Login's user loader: the user it returns is the session's own, exactly as loaded.

On SQLite the loader reads the row on the driver connection and attaches the user through the
ORM's public means; on PostgreSQL the ORM loads it. Both must give the same object behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from accounts.services import create_api_token, load_user
from models import ApiToken, Role, User

STAMP = datetime(2026, 11, 28, 12, 30, 15, 250000, tzinfo=UTC)


@pytest.fixture
def request_session(app: Flask) -> Iterator[Session]:
    """A fresh session, as a request starts with."""
    session: Session = app.extensions["tribune.sessionmaker"]()
    yield session
    session.close()


@pytest.fixture
def editor(db: Session, make_user: Callable[..., User]) -> User:
    """A user with every column set to something other than its default."""
    user = make_user(
        Role.EDITOR,
        last_login_at=STAMP,
        banned_until=STAMP + timedelta(days=3),
        ban_reason="Test van de lader",
        published_count=7,
        held_count=2,
        rejected_count=1,
        last_rejected_at=STAMP - timedelta(days=1),
    )
    create_api_token(db, user, "sleutel")
    db.commit()
    return user


def column_values(user: User) -> dict[str, object]:
    return {column.key: getattr(user, column.key) for column in User.__table__.columns}


def statements_while(session: Session, action: Callable[[], None]) -> list[str]:
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return seen


def test_the_loaded_user_has_every_column_as_the_orm_loads_it(
    app: Flask, request_session: Session, editor: User
) -> None:
    user = load_user(request_session, f"{editor.id}:{editor.session_version}")

    with app.extensions["tribune.sessionmaker"]() as other:
        loaded = other.execute(select(User).where(User.id == editor.id)).scalar_one()
        assert user is not None and column_values(user) == column_values(loaded)
    assert user.role is Role.EDITOR
    assert user.banned_until is not None and user.banned_until.tzinfo is not None
    assert user.is_banned(STAMP)


def test_the_loaded_user_is_persistent_unchanged_and_the_sessions_own(
    request_session: Session, editor: User
) -> None:
    session = request_session
    key = f"{editor.id}:{editor.session_version}"
    user = load_user(session, key)

    assert user is not None and inspect(user).persistent
    assert not inspect(user).modified and not session.dirty and not session.new
    assert load_user(session, key) is user
    assert session.get(User, editor.id) is user
    assert statements_while(session, session.flush) == []
    assert [token.name for token in user.tokens] == ["sleutel"]  # lazy loads as usual
    assert session.scalar(select(ApiToken.user_id)) == user.id


def test_a_change_to_the_loaded_user_writes_that_column_only(
    app: Flask, request_session: Session, editor: User
) -> None:
    session = request_session
    user = load_user(session, f"{editor.id}:{editor.session_version}")
    assert user is not None
    user.ban_reason = "Aangepast"

    statements = statements_while(session, session.flush)
    session.commit()

    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    assert len(updates) == 1 and "ban_reason" in updates[0]
    assert "published_count" not in updates[0] and "role" not in updates[0]
    with app.extensions["tribune.sessionmaker"]() as other:
        stored = other.get(User, editor.id)
        assert stored is not None and stored.ban_reason == "Aangepast"
        assert stored.published_count == 7


@pytest.mark.parametrize(
    "key",
    ["{id}:{wrong}", "{unknown}:1", "{id}", "x:1", "{id}:x", ":", ""],
)
def test_stale_unknown_or_malformed_keys_load_nobody(
    request_session: Session, editor: User, key: str
) -> None:
    filled = key.format(id=editor.id, wrong=editor.session_version + 1, unknown=editor.id + 1000)

    assert load_user(request_session, filled) is None


def test_an_inactive_user_is_not_loaded(
    db: Session, request_session: Session, editor: User
) -> None:
    editor.is_active = False
    db.commit()

    assert load_user(request_session, f"{editor.id}:{editor.session_version}") is None
