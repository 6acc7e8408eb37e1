"""Signing in after an anonymous vote: one ballot per person per poll (polls.claims)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Article, Poll, User
from polls import claims
from polls import services as polls
from polls.allowance import RedisIpAllowance
from polls.claims import claim_anonymous_ballots
from tests.conftest import TEST_PASSWORD, login, unique_redis_prefix
from tests.polls_fixtures import (
    assert_no_drift,
    ballots,
    make_poll_fixture,  # noqa: F401
    option_ids,
)


def page_vote(client: FlaskClient, db: Session, poll: Poll, option: int) -> str:
    """Vote with the article page's plain form; the page afterwards."""
    article = db.get(Article, poll.article_id)
    assert article is not None
    url = f"/artikels/{article.cms_id}"
    assert client.post(f"{url}/peilingen/{poll.id}", data={"option": option}).status_code == 303
    return client.get(url).get_data(as_text=True)


def counters(db: Session, poll: Poll) -> tuple[int, list[int], int]:
    """The poll's ballot count, its options' counts and its article's vote count."""
    db.rollback()
    db.expire_all()
    fresh = db.get(Poll, poll.id)
    article = db.get(Article, poll.article_id)
    assert fresh is not None and article is not None
    return fresh.ballot_count, [o.vote_count for o in fresh.options], article.vote_count


def test_anonymous_ballot_becomes_the_accounts_at_login(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    poll = make_poll()
    fan = make_user()
    yes, no, _ = option_ids(poll)
    page_vote(client, db, poll, yes)
    [anonymous] = ballots(db, poll.id)
    assert anonymous.voter_key.startswith("a:") and anonymous.user_id is None

    login(client, fan)
    [claimed] = ballots(db, poll.id)
    assert (claimed.id, claimed.voter_key, claimed.user_id) == (anonymous.id, f"u:{fan.id}", fan.id)
    # The same browser votes again: the account's ballot is already there, nothing more counts.
    page = page_vote(client, db, poll, no)
    assert "Je had al gestemd" in page and "Jouw stem: Ja" in page
    assert len(ballots(db, poll.id)) == 1
    assert counters(db, poll) == (1, [1, 0, 0], 1)
    assert_no_drift(app)


def test_the_first_sign_in_after_registering_claims_the_anonymous_ballot(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    page_vote(client, db, poll, option_ids(poll)[1])
    response = client.post(
        "/registreren",
        data={
            "username": "Maneblusser",
            "email": "maneblusser@example.test",
            "password": TEST_PASSWORD,
            "password_repeat": TEST_PASSWORD,
        },
    )
    # Registering signs nobody in (no enumeration of addresses): the first sign-in claims.
    assert response.status_code == 303
    [anonymous] = ballots(db, poll.id)
    assert anonymous.user_id is None
    signed_in = client.post("/login", data={"login": "Maneblusser", "password": TEST_PASSWORD})
    assert signed_in.status_code == 302
    [ballot] = ballots(db, poll.id)
    user = db.get(User, ballot.user_id)
    assert user is not None and user.username == "Maneblusser"
    assert ballot.voter_key == f"u:{user.id}"
    assert counters(db, poll) == (1, [0, 1, 0], 1)
    assert_no_drift(app)


def test_account_that_voted_keeps_its_ballot_and_the_anonymous_one_leaves_the_tally(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    poll = make_poll()
    other = make_poll(article=db.get(Article, poll.article_id))
    fan = make_user()
    yes, no, _ = option_ids(poll)
    login(client, fan)
    page_vote(client, db, poll, yes)
    assert client.post("/uitloggen").status_code == 302
    # Signed out, the same browser votes again on this poll, and on another one.
    page_vote(client, db, poll, no)
    page_vote(client, db, other, option_ids(other)[2])
    assert counters(db, poll) == (2, [1, 1, 0], 3)

    login(client, fan)
    [kept] = ballots(db, poll.id)
    assert kept.voter_key == f"u:{fan.id}" and [c.option_id for c in kept.choices] == [yes]
    assert counters(db, poll) == (1, [1, 0, 0], 2)
    [moved] = ballots(db, other.id)
    assert moved.user_id == fan.id
    article = db.get(Article, poll.article_id)
    assert article is not None
    page = client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)
    assert "Jouw stem: Ja" in page and "Jouw stem: Weet niet" in page
    assert 'class="poll-form"' not in page
    assert_no_drift(app)


def test_claim_rule_on_the_session(
    app: Flask, db: Session, make_poll: Callable[..., Poll], make_user: Callable[..., User]
) -> None:
    """The rule without HTTP: a quarantined duplicate leaves no counter behind; foreign or
    unknown keys change nothing."""
    poll = make_poll()
    fan = make_user()
    yes, no, _ = option_ids(poll)
    now = datetime.now(UTC)
    context = polls.VoteContext(ip_hash="ip", ip_allowance=0, burst=False, editor=False)
    polls.cast_vote(db, poll.id, [yes], polls.Voter(f"u:{fan.id}", fan.id), context, now)
    polls.cast_vote(db, poll.id, [no], polls.Voter("a:" + "x" * 22), context, now)
    db.commit()
    [_, anonymous] = ballots(db, poll.id)
    polls.set_quarantine(
        db, poll.id, True, polls.QuarantineScope.SELECTED, [anonymous.id], None, now
    )
    db.commit()
    assert counters(db, poll) == (1, [1, 0, 0], 1)

    result = claim_anonymous_ballots(
        db, fan.id, {poll.id: "a:" + "x" * 22, poll.id + 1000: "a:" + "y" * 22, 5: "u:9"}
    )
    db.commit()
    assert result.moved == [] and [d.counted for d in result.dropped] == [False]
    assert [b.voter_key for b in ballots(db, poll.id)] == [f"u:{fan.id}"]
    assert counters(db, poll) == (1, [1, 0, 0], 1)
    assert_no_drift(app)


def test_dropped_ballot_gives_back_its_allowance_mark(redis_url: str) -> None:
    import redis

    allowance = RedisIpAllowance(redis.Redis.from_url(redis_url), "test-claims-" + uuid.uuid4().hex)
    born = datetime(2026, 1, 1, tzinfo=UTC)
    now = datetime.now(UTC)
    allowance.mark(7, born, "ip", "a:dropped", now)
    allowance.mark(7, born, "ip", "a:kept", now)
    allowance.forget(7, born, "ip", "a:dropped")
    mark = allowance.mark(7, born, "ip", "a:next", now)
    assert mark is not None and mark.before == 1


def test_a_concurrent_vote_of_the_account_wins_over_the_claim(
    app: Flask,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The account's ballot lands between the check and the move: the unique constraint
    refuses the move, and the anonymous ballot is dropped as a duplicate."""
    poll = make_poll()
    fan = make_user()
    yes, no, _ = option_ids(poll)
    now = datetime.now(UTC)
    context = polls.VoteContext(ip_hash="ip", ip_allowance=0, burst=False, editor=False)
    polls.cast_vote(db, poll.id, [no], polls.Voter("a:" + "x" * 22), context, now)
    polls.cast_vote(db, poll.id, [yes], polls.Voter(f"u:{fan.id}", fan.id), context, now)
    db.commit()
    monkeypatch.setattr(claims, "_has_ballot", lambda *args: False)
    result = claims.claim_anonymous_ballots(db, fan.id, {poll.id: "a:" + "x" * 22})
    db.commit()
    assert result.moved == [] and [d.poll_id for d in result.dropped] == [poll.id]
    assert [b.voter_key for b in ballots(db, poll.id)] == [f"u:{fan.id}"]
    assert counters(db, poll) == (1, [1, 0, 0], 1)
    assert_no_drift(app)


@pytest.fixture
def proxied(app_settings: dict[str, Any], redis_url: str) -> dict[str, Any]:
    """Redis for the IP allowance; the client's address from X-Forwarded-For."""
    app_settings["TRIBUNE_TRUSTED_PROXIES"] = 1
    app_settings["TRIBUNE_POLL_IP_ALLOWANCE"] = 5
    app_settings["REDIS_URL"] = redis_url
    app_settings.pop("RATELIMIT_STORAGE_URI", None)
    unique_redis_prefix(app_settings)
    return app_settings


@pytest.mark.usefixtures("proxied")
def test_a_dropped_ballot_leaves_the_ip_allowance(
    app: Flask,
    db: Session,
    make_poll: Callable[..., Poll],
    make_user: Callable[..., User],
) -> None:
    from security import hash_ip
    from views.poll_support import ip_allowance

    poll = make_poll()
    fan = make_user()
    nat = {"X-Forwarded-For": "203.0.113.7"}
    client = app.test_client()
    client.environ_base["HTTP_X_FORWARDED_FOR"] = nat["X-Forwarded-For"]
    login(client, fan)
    page_vote(client, db, poll, option_ids(poll)[0])
    assert client.post("/uitloggen").status_code == 302
    page_vote(client, db, poll, option_ids(poll)[1])

    def marks() -> int:
        with app.app_context():
            store = ip_allowance()
            assert store is not None
            ip = hash_ip(nat["X-Forwarded-For"], app.config["TRIBUNE_IP_HASH_KEY"])
            return int(store.client.zcard(store._key(poll.id, poll.created_at, ip)))

    # PostgreSQL marks ballots in Redis; SQLite counts the rows (no marks).
    marked = 0 if db.get_bind().dialect.name == "sqlite" else 1
    assert marks() == 2 * marked
    login(client, fan)
    assert len(ballots(db, poll.id)) == 1
    assert marks() == marked
    assert_no_drift(app)
