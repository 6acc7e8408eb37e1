"""Shared helpers for the poll tests (imported by tests/test_polls_*.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Article, Ballot, ModerationAction, Poll, ResultsVisibility, VoterScope, utcnow
from polls import services as polls
from tallies.recount import recount

SAME_ORIGIN = {"Origin": "http://localhost"}


def create_poll(
    db: Session,
    article: Article,
    options: tuple[str, ...] = ("Ja", "Nee", "Weet niet"),
    **fields: Any,
) -> Poll:
    """A committed poll (through the service, as editors make them)."""
    draft = polls.PollDraft(
        question=fields.pop("question", "Moet KVM verder doen met Defour?"),
        options=list(options),
        max_choices=fields.pop("max_choices", 1),
        opens_at=fields.pop("opens_at", None),
        closes_at=fields.pop("closes_at", None),
        results_visibility=fields.pop("results_visibility", ResultsVisibility.ALWAYS),
        voter_scope=fields.pop("voter_scope", VoterScope.EVERYONE),
    )
    poll = polls.create_poll(db, article, draft, None, utcnow())
    for key, value in fields.items():
        setattr(poll, key, value)
    db.commit()
    return poll


@pytest.fixture(name="make_poll")
def make_poll_fixture(db: Session, make_article: Callable[..., Article]) -> Callable[..., Poll]:
    def make(article: Article | None = None, **fields: Any) -> Poll:
        return create_poll(db, article or make_article(), **fields)

    return make


def voter_token(client: FlaskClient, poll_id: int, headers: dict | None = None) -> str:
    response = client.post(
        f"/api/v1/polls/{poll_id}/voter-token", json={}, headers={**SAME_ORIGIN, **(headers or {})}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["voter_token"]


def vote(
    client: FlaskClient,
    poll_id: int,
    option_ids: Any,
    token: str | None = None,
    headers: dict | None = None,
) -> Any:
    extra = {"X-Tribune-Voter-Token": token} if token else {}
    return client.post(
        f"/api/v1/polls/{poll_id}/votes",
        json={"option_ids": option_ids},
        headers={**SAME_ORIGIN, **extra, **(headers or {})},
    )


def option_ids(poll: Poll) -> list[int]:
    return [o.id for o in poll.options]


def error_code(response: Any) -> str:
    return response.get_json()["error"]["code"]


def assert_no_drift(app: Flask) -> None:
    """tallies.recount finds every counter true."""
    session: Session = app.extensions["tribune.sessionmaker"]()
    try:
        drifts = recount(session)
        assert drifts == [], drifts
    finally:
        session.rollback()
        session.close()


def ballots(db: Session, poll_id: int) -> list[Ballot]:
    db.rollback()  # a fresh snapshot (SQLite WAL readers keep theirs until the transaction ends)
    db.expire_all()
    return list(db.scalars(select(Ballot).where(Ballot.poll_id == poll_id).order_by(Ballot.id)))


def audit_rows(db: Session, target_type: str, action: str | None = None) -> list[ModerationAction]:
    db.rollback()
    db.expire_all()
    stmt = select(ModerationAction).where(ModerationAction.target_type == target_type)
    if action:
        stmt = stmt.where(ModerationAction.action == action)
    return list(db.scalars(stmt.order_by(ModerationAction.id)))


def future(**delta: float) -> datetime:
    return utcnow() + timedelta(**delta)


def past(**delta: float) -> datetime:
    return utcnow() - timedelta(**delta)
