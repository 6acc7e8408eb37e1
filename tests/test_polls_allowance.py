"""The per-IP allowance in Redis (polls.allowance) and its fallback to counting the rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from db import begin_write
from models import Poll, User, utcnow
from polls import services as polls
from polls.allowance import WINDOW_SECONDS, Mark, RedisIpAllowance
from tests.polls_fixtures import (
    assert_no_drift,
    ballots,
    make_poll_fixture,  # noqa: F401
    option_ids,
    vote,
    voter_token,
)

BORN = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def allowance(redis_url: str) -> RedisIpAllowance:
    import redis

    return RedisIpAllowance(redis.Redis.from_url(redis_url), "test-pollip-" + uuid.uuid4().hex)


def test_marks_count_a_sliding_hour_exactly(allowance: RedisIpAllowance) -> None:
    start = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    counts = [
        allowance.mark(7, BORN, "ip", f"a:{i}", start + timedelta(minutes=10 * i)).before  # type: ignore[union-attr]
        for i in range(6)
    ]
    assert counts == [0, 1, 2, 3, 4, 5]
    # Exactly an hour after the first mark it still counts (created_at >= now - 1 hour) ...
    hour = start + timedelta(seconds=WINDOW_SECONDS)
    assert allowance.mark(7, BORN, "ip", "a:6", hour).before == 6  # type: ignore[union-attr]
    # ... a moment later it does not.
    later = hour + timedelta(seconds=1)
    assert allowance.mark(7, BORN, "ip", "a:7", later).before == 6  # type: ignore[union-attr]
    # Other addresses, other polls and the same poll id in another database count apart.
    assert allowance.mark(7, BORN, "other-ip", "a:8", later).before == 0  # type: ignore[union-attr]
    assert allowance.mark(8, BORN, "ip", "a:9", later).before == 0  # type: ignore[union-attr]
    reborn = BORN + timedelta(days=1)
    assert allowance.mark(7, reborn, "ip", "a:10", later).before == 0  # type: ignore[union-attr]


def test_unmark_takes_back_one_attempt_only(allowance: RedisIpAllowance) -> None:
    now = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    first = allowance.mark(7, BORN, "ip", "a:same", now)
    again = allowance.mark(7, BORN, "ip", "a:same", now)  # the same voter, a second attempt
    assert first is not None and again is not None and again.before == 1
    allowance.unmark(again)
    assert allowance.mark(7, BORN, "ip", "a:next", now).before == 1  # type: ignore[union-attr]


def test_unreachable_redis_gives_no_mark() -> None:
    import redis

    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    allowance = RedisIpAllowance(dead, "test-pollip")
    assert allowance.mark(7, BORN, "ip", "a:1", utcnow()) is None
    allowance.unmark(Mark("k", "m", 0))  # no exception either


@pytest.fixture
def proxied(app_settings: dict[str, Any], redis_url: str) -> dict[str, Any]:
    app_settings["TRIBUNE_TRUSTED_PROXIES"] = 1
    app_settings["TRIBUNE_POLL_IP_ALLOWANCE"] = 2
    app_settings["REDIS_URL"] = redis_url
    app_settings.pop("RATELIMIT_STORAGE_URI", None)
    return app_settings


def _marks(app: Flask, poll: Poll, ip: str) -> int:
    from security import hash_ip
    from views.poll_support import ip_allowance

    with app.app_context():
        store = ip_allowance()
        assert store is not None
        key = store._key(poll.id, poll.created_at, hash_ip(ip, app.config["TRIBUNE_IP_HASH_KEY"]))
        return int(store.client.zcard(key))


@pytest.mark.usefixtures("proxied")
def test_allowance_marks_and_a_repeat_vote_takes_its_mark_back(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    # PostgreSQL runs votes side by side, so the marks live in Redis; SQLite counts the rows
    # inside the ballot insert, under its write lock, and leaves Redis alone.
    marked = 0 if db.get_bind().dialect.name == "sqlite" else 1
    nat = {"X-Forwarded-For": "203.0.113.9"}
    tokens = [voter_token(client, poll.id, nat) for _ in range(3)]
    for token in tokens:
        assert vote(client, poll.id, option_ids(poll)[:1], token, nat).status_code == 201
    assert _marks(app, poll, "203.0.113.9") == 3 * marked
    # A repeat vote (the ballot exists): 200, and its mark is removed again.
    assert vote(client, poll.id, option_ids(poll)[:1], tokens[0], nat).status_code == 200
    assert _marks(app, poll, "203.0.113.9") == 3 * marked
    # A refused vote (422) leaves no mark either.
    fourth = voter_token(client, poll.id, nat)
    assert vote(client, poll.id, [999_999], fourth, nat).status_code == 422
    assert _marks(app, poll, "203.0.113.9") == 3 * marked
    assert [r.suspicion for r in ballots(db, poll.id)] == [None, None, "ip_allowance"]
    assert_no_drift(app)


def test_without_redis_the_rows_are_counted(app: Flask, make_poll: Callable[..., Poll]) -> None:
    """An allowance whose Redis fails (and none at all) falls back to counting the ballots."""
    import redis

    poll = make_poll()
    ids = option_ids(poll)
    dead = RedisIpAllowance(redis.Redis(host="127.0.0.1", port=1), "test-pollip")
    for i, store in enumerate([dead, None, dead, None]):
        session = app.extensions["tribune.sessionmaker"]()
        begin_write(session)
        context = polls.VoteContext(ip_hash="same-ip", ip_allowance=2, allowance=store)
        outcome = polls.cast_vote(
            session, poll.id, ids[:1], polls.Voter(f"a:v{i}"), context, utcnow()
        )
        session.commit()
        session.close()
        assert outcome.created
    session = app.extensions["tribune.sessionmaker"]()
    assert [r.suspicion for r in ballots(session, poll.id)] == [
        None,
        None,
        "ip_allowance",
        "ip_allowance",
    ]
    session.close()


def test_counted_rows_keep_a_sliding_hour_exactly(
    app: Flask, make_poll: Callable[..., Poll], make_user: Callable[..., User]
) -> None:
    """The row count (inside the ballot insert on SQLite; a count without Redis elsewhere):
    a ballot exactly an hour old still counts, one a second older does not; members are never
    marked as a token spike, anonymous voters are."""
    poll = make_poll()
    ids = option_ids(poll)
    member = make_user().id
    start = utcnow() - timedelta(hours=2)
    hour = timedelta(seconds=WINDOW_SECONDS)
    votes = [
        ("a:1", None, "ip", start, False),
        ("a:2", None, "ip", start + hour, False),  # the first is exactly an hour old: 1 before
        ("a:3", None, "ip", start + hour + timedelta(seconds=1), False),  # only a:2 counts now
        ("a:4", None, "other-ip", start + hour + timedelta(seconds=1), True),  # its own count
        (f"u:{member}", member, "member-ip", start + hour + timedelta(seconds=2), True),
    ]
    for key, user_id, ip_hash, moment, burst in votes:
        session = app.extensions["tribune.sessionmaker"]()
        begin_write(session)
        context = polls.VoteContext(ip_hash=ip_hash, ip_allowance=1, burst=burst)
        outcome = polls.cast_vote(
            session, poll.id, ids[:1], polls.Voter(key, user_id), context, moment
        )
        session.commit()
        session.close()
        assert outcome.created
    session = app.extensions["tribune.sessionmaker"]()
    rows = ballots(session, poll.id)
    assert [(r.suspicion, r.is_suspicious) for r in rows] == [
        (None, False),
        ("ip_allowance", True),
        ("ip_allowance", True),
        ("burst", True),
        (None, False),  # a member's ballot is never a token spike
    ]
    session.close()
