"""Voter tokens, schedule, per-IP allowance, burst marks, quarantine and the counters."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session

from models import Article, Poll, utcnow
from polls import services as polls
from polls.burst import BurstDetector, MemoryBurstStore
from polls.results import percentages
from polls.tokens import VOTER_SALT, issue_voter_token
from tests.polls_fixtures import (
    SAME_ORIGIN,
    assert_no_drift,
    audit_rows,
    ballots,
    error_code,
    future,
    make_poll_fixture,  # noqa: F401
    option_ids,
    vote,
    voter_token,
)

# ---------------------------------------------------------------- tokens


def test_forged_token_is_refused(client: FlaskClient, make_poll: Callable[..., Poll]) -> None:
    poll = make_poll()
    forged = issue_voter_token("not-our-secret", poll.id)
    response = vote(client, poll.id, option_ids(poll)[:1], forged)
    assert response.status_code == 403
    assert error_code(response) == "invalid_voter_token"
    tampered = voter_token(client, poll.id)[:-2] + "xx"
    assert error_code(vote(client, poll.id, option_ids(poll)[:1], tampered)) == (
        "invalid_voter_token"
    )


def test_foreign_token_is_refused(client: FlaskClient, make_poll: Callable[..., Poll]) -> None:
    poll_a, poll_b = make_poll(), make_poll()
    token_a = voter_token(client, poll_a.id)
    response = vote(client, poll_b.id, option_ids(poll_b)[:1], token_a)
    assert response.status_code == 403
    assert error_code(response) == "foreign_voter_token"


def test_expired_token_is_refused(
    app: Flask, client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    app.config["TRIBUNE_VOTER_TOKEN_MAX_AGE"] = 60
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=VOTER_SALT)
    old = serializer.dumps({"p": poll.id, "t": "x" * 22})
    real_time = time.time
    try:
        time.time = lambda: real_time() + 3600  # type: ignore[assignment]
        response = vote(client, poll.id, option_ids(poll)[:1], old)
    finally:
        time.time = real_time  # type: ignore[assignment]
    assert response.status_code == 403
    assert error_code(response) == "voter_token_expired"


def test_token_payload_must_be_well_formed(
    app: Flask, client: FlaskClient, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=VOTER_SALT)
    for payload in ({"p": poll.id}, {"p": str(poll.id), "t": "x" * 22}, [poll.id], "x"):
        response = vote(client, poll.id, option_ids(poll)[:1], serializer.dumps(payload))
        assert error_code(response) == "invalid_voter_token"


def test_token_issuance_is_rate_limited_per_ip(
    app_settings: dict[str, Any], make_article: Callable[..., Article], db: Session
) -> None:
    from app import create_app
    from tests.polls_fixtures import create_poll

    app_settings.update(
        TRIBUNE_RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        TRIBUNE_VOTER_TOKEN_LIMIT="3 per minute",
        TRIBUNE_TRUSTED_PROXIES=1,
    )
    application = create_app(app_settings)
    try:
        poll = create_poll(db, make_article())
        client = application.test_client()
        ip = f"10.9.{int(time.time()) % 250}.{id(client) % 250}"
        codes = [
            client.post(
                f"/api/v1/polls/{poll.id}/voter-token",
                json={},
                headers={**SAME_ORIGIN, "X-Forwarded-For": ip},
            ).status_code
            for _ in range(4)
        ]
        assert codes == [201, 201, 201, 429]
        other = client.post(
            f"/api/v1/polls/{poll.id}/voter-token",
            json={},
            headers={**SAME_ORIGIN, "X-Forwarded-For": "10.250.1.1"},
        )
        assert other.status_code == 201
    finally:
        application.extensions["tribune.engine"].dispose()


# ---------------------------------------------------------------- schedule


def test_scheduled_poll_is_404_until_it_opens(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(opens_at=future(hours=1), closes_at=future(hours=2))
    token = issue_voter_token(app.config["SECRET_KEY"], poll.id)
    assert client.get(f"/api/v1/polls/{poll.id}").status_code == 404
    assert vote(client, poll.id, option_ids(poll)[:1], token).status_code == 404
    response = client.post(f"/api/v1/polls/{poll.id}/voter-token", json={}, headers=SAME_ORIGIN)
    assert response.status_code == 404
    assert client.get(f"/embed/polls/{poll.id}").status_code == 404
    article = db.get(Article, poll.article_id)
    assert poll.question not in client.get(f"/artikels/{article.cms_id}").get_data(as_text=True)

    # It opens: the same token now votes.
    poll.opens_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get(f"/api/v1/polls/{poll.id}").get_json()["state"] == "open"
    assert vote(client, poll.id, option_ids(poll)[:1], token).status_code == 201
    # It closes.
    poll.closes_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert client.get(f"/api/v1/polls/{poll.id}").get_json()["state"] == "closed"
    assert error_code(vote(client, poll.id, option_ids(poll)[:1], token)) == "poll_closed"
    assert_no_drift(app)


def test_poll_state_transitions() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    poll = Poll(opens_at=now + timedelta(minutes=1), closes_at=now + timedelta(hours=1))
    assert polls.poll_state(poll, now) is polls.PollState.SCHEDULED
    assert polls.poll_state(poll, now + timedelta(minutes=1)) is polls.PollState.OPEN
    assert polls.poll_state(poll, now + timedelta(hours=1)) is polls.PollState.CLOSED
    assert polls.poll_state(Poll(), now) is polls.PollState.OPEN


def test_percentages_add_up_for_single_choice() -> None:
    assert sum(percentages([1, 1, 1], 3, True)) == 100
    assert percentages([58, 21, 9], 88, True) == [66, 24, 10]
    assert percentages([0, 0], 0, True) == [0, 0]
    assert percentages([2, 1], 2, False) == [100, 50]


# ---------------------------------------------------------------- editing rules


def test_question_and_options_freeze_after_the_first_ballot(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    moment = utcnow()
    draft = polls.PollDraft("Andere vraag?", ["A", "B"], closes_at=future(days=1))
    polls.update_poll(db, poll.id, draft, None, moment)
    db.commit()
    assert [o.label for o in db.get(Poll, poll.id).options] == ["A", "B"]

    assert (
        vote(
            client, poll.id, option_ids(db.get(Poll, poll.id))[:1], voter_token(client, poll.id)
        ).status_code
        == 201
    )
    db.expire_all()
    with pytest.raises(polls.DomainError) as frozen:
        polls.update_poll(db, poll.id, polls.PollDraft("Nog een vraag?", ["A", "B"]), None, moment)
    db.rollback()
    assert frozen.value.status_code == 409 and frozen.value.code == "poll_frozen"
    # Closing time and visibility may still change.
    from models import ResultsVisibility

    later = future(days=3)
    polls.update_poll(
        db,
        poll.id,
        polls.PollDraft(
            "Andere vraag?",
            ["A", "B"],
            closes_at=later,
            results_visibility=ResultsVisibility.AFTER_CLOSE,
        ),
        None,
        moment,
    )
    db.commit()
    with pytest.raises(polls.DomainError) as undeletable:
        polls.delete_poll(db, poll.id, None, moment)
    db.rollback()
    assert undeletable.value.code == "poll_has_ballots"
    actions = [row.action for row in audit_rows(db, "poll")]
    assert actions == ["create_poll", "update_poll", "update_poll"]
    assert_no_drift(app)


def test_close_reopen_delete_with_audit(db: Session, make_poll: Callable[..., Poll]) -> None:
    poll = make_poll()
    moment = utcnow()
    polls.close_poll(db, poll.id, None, moment)
    db.commit()
    with pytest.raises(polls.DomainError) as twice:
        polls.close_poll(db, poll.id, None, moment + timedelta(seconds=1))
    db.rollback()
    assert twice.value.code == "poll_not_open"
    polls.reopen_poll(db, poll.id, None, moment + timedelta(seconds=1), future(days=1))
    db.commit()
    assert polls.poll_state(db.get(Poll, poll.id), utcnow()) is polls.PollState.OPEN
    polls.delete_poll(db, poll.id, None, utcnow())
    db.commit()
    assert db.get(Poll, poll.id) is None
    assert [r.action for r in audit_rows(db, "poll")] == [
        "create_poll",
        "close_poll",
        "reopen_poll",
        "delete_poll",
    ]


# ---------------------------------------------------------------- per-IP allowance and bursts


@pytest.fixture
def proxied(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_TRUSTED_PROXIES"] = 1
    app_settings["TRIBUNE_POLL_IP_ALLOWANCE"] = 3
    return app_settings


@pytest.mark.usefixtures("proxied")
def test_ip_over_its_allowance_is_marked_not_refused(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    nat = {"X-Forwarded-For": "203.0.113.7"}
    codes = [
        vote(
            client, poll.id, option_ids(poll)[:1], voter_token(client, poll.id, nat), nat
        ).status_code
        for _ in range(5)
    ]
    assert codes == [201] * 5
    # IPv6 clients share one allowance per /64.
    for suffix in ("1", "2", "3", "ffff"):
        v6 = {"X-Forwarded-For": f"2001:db8:1:2::{suffix}"}
        vote(client, poll.id, option_ids(poll)[:1], voter_token(client, poll.id, v6), v6)
    other = {"X-Forwarded-For": "198.51.100.1"}
    vote(client, poll.id, option_ids(poll)[:1], voter_token(client, poll.id, other), other)
    rows = ballots(db, poll.id)
    assert [r.suspicion for r in rows] == [None] * 3 + ["ip_allowance"] * 2 + [None] * 3 + [
        "ip_allowance"
    ] + [None]
    assert all(r.ip_hash and "203.0.113.7" not in r.ip_hash for r in rows)
    db.expire_all()
    assert db.get(Poll, poll.id).ballot_count == 10  # marked ballots still count until quarantined
    assert_no_drift(app)


def test_burst_detector_marks_a_spike() -> None:
    detector = BurstDetector(MemoryBurstStore(), floor=5, factor=3)
    base = datetime(2026, 5, 1, 20, 0, tzinfo=UTC)
    for minute in range(10):
        for _ in range(2):
            detector.record_issue(1, base + timedelta(minutes=minute))
    spike = base + timedelta(minutes=10)
    for _ in range(5):
        detector.record_issue(1, spike)
    assert not detector.is_burst(1, spike)  # at the floor
    detector.record_issue(1, spike)
    detector.record_issue(1, spike)  # 7 > floor 5 and > 3 × the baseline of 2
    assert detector.is_burst(1, spike)
    assert not detector.is_burst(1, base + timedelta(minutes=5))
    assert not detector.is_burst(2, spike)


def test_burst_tokens_mark_ballots(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    app.config["TRIBUNE_POLL_BURST_FLOOR"] = 3
    poll = make_poll()
    tokens = [voter_token(client, poll.id) for _ in range(5)]
    for token in tokens:
        assert vote(client, poll.id, option_ids(poll)[:1], token).status_code == 201
    assert {r.suspicion for r in ballots(db, poll.id)} == {"burst"}


# ---------------------------------------------------------------- quarantine


def test_quarantine_and_release_change_results_with_audit(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll(options=("A", "B", "C"), max_choices=2)
    ids = option_ids(poll)
    for chosen in ([ids[0]], [ids[0], ids[1]], [ids[2]]):
        assert vote(client, poll.id, chosen, voter_token(client, poll.id)).status_code == 201
    rows = ballots(db, poll.id)
    rows[1].is_suspicious, rows[1].suspicion = True, "ip_allowance"
    rows[2].is_suspicious, rows[2].suspicion = True, "burst"
    db.commit()
    article = db.get(Article, poll.article_id)
    assert article.vote_count == 3

    moved = polls.set_quarantine(
        db, poll.id, True, polls.QuarantineScope.IP_ALLOWANCE, [], None, utcnow()
    )
    db.commit()
    assert moved == [rows[1].id]
    body = client.get(f"/api/v1/polls/{poll.id}").get_json()["results"]
    assert body["total"] == 2
    assert [o["votes"] for o in body["options"]] == [1, 0, 1]
    assert db.get(Article, poll.article_id).vote_count == 2
    assert_no_drift(app)

    # Quarantining again moves nothing; all suspicious takes the other one.
    assert polls.set_quarantine(
        db, poll.id, True, polls.QuarantineScope.SUSPICIOUS, [], None, utcnow()
    ) == [rows[2].id]
    db.commit()
    assert client.get(f"/api/v1/polls/{poll.id}").get_json()["results"]["total"] == 1
    assert_no_drift(app)

    released = polls.set_quarantine(
        db,
        poll.id,
        False,
        polls.QuarantineScope.SELECTED,
        [rows[1].id, rows[2].id],
        None,
        utcnow(),
    )
    db.commit()
    assert sorted(released) == [rows[1].id, rows[2].id]
    body = client.get(f"/api/v1/polls/{poll.id}").get_json()["results"]
    assert [o["votes"] for o in body["options"]] == [2, 1, 1]
    assert db.get(Article, poll.article_id).vote_count == 3
    ballot_audit = audit_rows(db, "ballot")
    assert [(r.target_id, r.action) for r in ballot_audit] == [
        (str(rows[1].id), "quarantine_ballot"),
        (str(rows[2].id), "quarantine_ballot"),
        (str(rows[1].id), "release_ballot"),
        (str(rows[2].id), "release_ballot"),
    ]
    assert_no_drift(app)


def test_quarantined_voter_still_gets_their_ballot_back(
    app: Flask, client: FlaskClient, db: Session, make_poll: Callable[..., Poll]
) -> None:
    poll = make_poll()
    token = voter_token(client, poll.id)
    vote(client, poll.id, option_ids(poll)[:1], token)
    polls.set_quarantine(
        db,
        poll.id,
        True,
        polls.QuarantineScope.SELECTED,
        [ballots(db, poll.id)[0].id],
        None,
        utcnow(),
    )
    db.commit()
    again = vote(client, poll.id, option_ids(poll)[1:2], token)
    assert again.status_code == 200
    assert len(ballots(db, poll.id)) == 1
    assert_no_drift(app)
