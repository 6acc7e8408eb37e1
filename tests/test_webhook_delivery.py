"""Webhook delivery against a real HTTP receiver started by the tests (http.server in a thread):
signatures checked with the Standard Webhooks reference library, rotation's grace, a receiver
that is down and then up, dead letters and the retry button, timeouts, redirects, the SSRF
guard and the delivery log."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import events
from models import (
    Article,
    Channel,
    CommentState,
    MessageState,
    OutboxAttempt,
    OutboxMessage,
    Role,
    User,
    WebhookEndpoint,
)
from models.base import utcnow
from outbox import run_worker
from tests.conftest import login
from tests.factories import create_comment, fresh
from tests.test_webhooks import event_samples
from webhooks import endpoints
from webhooks.delivery import Target, send
from webhooks.endpoints import WEBHOOK_EVENTS, UrlPolicy
from webhooks.signing import webhook_headers


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST, answers with the queued statuses
    (then 200); `stop()` takes it down (connection refused), `start()` brings it up again on
    the same port."""

    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    port: int = 0
    server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append(Received(dict(self.headers.items()), body))
                if receiver.delay:
                    time.sleep(receiver.delay)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "http://127.0.0.1:9/elders")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/tribune"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture(autouse=True)
def webhook_settings(app_settings: dict[str, Any]) -> None:
    """The test configuration: webhooks may go to 127.0.0.1; three tries before dead, a minute
    between the first two (the tests move the worker's clock past it)."""
    app_settings["TRIBUNE_WEBHOOK_ALLOW_PRIVATE"] = True
    app_settings["TRIBUNE_OUTBOX_MAX_ATTEMPTS"] = 3
    app_settings["TRIBUNE_OUTBOX_BACKOFF_SECONDS"] = 60.0
    app_settings["TRIBUNE_WORKER_INTERVAL_SECONDS"] = 0.01


class Clock:
    """The worker's clock, moved forward by hand past a backoff (no sleeping)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, hours: float = 1) -> None:
        self.offset += timedelta(hours=hours)


def work(app: Flask, clock: Callable[[], datetime] = utcnow) -> int:
    """Run the outbox worker until nothing is due; how many deliveries it claimed."""
    report = run_worker(app.extensions["tribune.sessionmaker"], app.config, once=True, now=clock)
    return report.claimed


def make_endpoint(
    db: Session, actor: User, url: str, events_: list[str] | None = None
) -> WebhookEndpoint:
    endpoint = endpoints.create_endpoint(
        db,
        actor,
        url,
        "",
        events_ or list(WEBHOOK_EVENTS),
        UrlPolicy(allow_private=True),
    )
    db.commit()
    return endpoint


def webhook_messages(db: Session) -> list[OutboxMessage]:
    fresh(db)
    return list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == Channel.WEBHOOK)
            .order_by(OutboxMessage.id)
        )
    )


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user(Role.ADMIN, username="Beheerder")


@pytest.fixture
def article(make_article: Callable[..., Article]) -> Article:
    return make_article(cms_id="kvm-club", url="https://www.example.be/kvm-club")


def post_comments(
    db: Session, article: Article, author: User, count: int, body: str = "Goal nummer"
) -> None:
    for number in range(count):
        create_comment(db, article, author, CommentState.PUBLISHED, body=f"{body} {number + 1}")


# ---------------------------------------------------------------- delivered and verified


def test_a_comment_reaches_the_receiver_signed(
    app: Flask,
    db: Session,
    admin: User,
    article: Article,
    make_user: Callable[..., User],
    receiver: Receiver,
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["comment.created"])
    post_comments(db, article, make_user(username="Maneblusser"), 1)

    assert work(app) == 1

    [got] = receiver.requests
    [message] = webhook_messages(db)
    assert message.state is MessageState.SENT
    assert got.headers["webhook-id"] == message.delivery_id
    assert got.headers["Content-Type"] == "application/json"
    assert abs(int(got.headers["webhook-timestamp"]) - time.time()) < 60
    verified = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert verified["type"] == "comment.created"
    assert verified["data"]["comment"]["excerpt"] == "Goal nummer 1"
    assert verified["data"]["author"]["username"] == "Maneblusser"
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoints.new_secret()).verify(got.body, got.headers)


@pytest.mark.parametrize("name", list(WEBHOOK_EVENTS))
def test_every_event_type_is_delivered_to_its_subscriber(
    app: Flask,
    db: Session,
    admin: User,
    article: Article,
    make_user: Callable[..., User],
    receiver: Receiver,
    name: str,
) -> None:
    author = make_user(username="Maneblusser")
    comment = create_comment(db, article, author, CommentState.PUBLISHED, body="Mooie goal!")
    thread = {"article": article, "author": author, "comment": comment}
    endpoint = make_endpoint(db, admin, receiver.url, [name])

    for each, data in event_samples(thread, admin).items():
        events.publish(db, each, **data)
    db.commit()
    work(app)

    assert [
        Webhook(endpoint.secret).verify(r.body, r.headers)["type"] for r in receiver.requests
    ] == [name]


def test_the_test_button_delivers_and_the_log_shows_it(
    app: Flask, client: FlaskClient, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    login(client, admin)

    assert client.post(f"/beheer/webhooks/{endpoint.id}/test").status_code == 303
    work(app)

    [got] = receiver.requests
    assert Webhook(endpoint.secret).verify(got.body, got.headers)["type"] == "webhook.test"
    page = client.get(f"/beheer/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "webhook.test" in page and "200" in page and "verzonden" in page


def readme_verifier() -> Callable[[str, dict[str, str], bytes], bool]:
    """The `verify` function of the README's example, as printed there."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    code = text.split("<!-- webhook-verifier -->\n```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    verify: Callable[[str, dict[str, str], bytes], bool] = namespace["verify"]
    return verify


def test_the_readme_s_verifier_accepts_a_delivery_and_refuses_a_forgery(
    app: Flask, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    events.publish(db, "poll.closed", poll_id=9, article_id=None)
    db.commit()
    work(app)
    verify = readme_verifier()

    [got] = receiver.requests
    headers = {key.lower(): value for key, value in got.headers.items()}
    assert verify(endpoint.secret, headers, got.body)
    assert not verify(endpoint.secret, headers, got.body.replace(b"9", b"8"))
    assert not verify(endpoints.new_secret(), headers, got.body)
    # Correctly signed, but ten minutes old: a replay.
    old = int(headers["webhook-timestamp"]) - 600
    replay = webhook_headers([endpoint.secret], headers["webhook-id"], old, got.body)
    assert not verify(endpoint.secret, replay, got.body)
    fresh_copy = webhook_headers([endpoint.secret], headers["webhook-id"], old + 600, got.body)
    assert verify(endpoint.secret, fresh_copy, got.body)


# ---------------------------------------------------------------- rotation


def test_during_the_grace_both_secrets_verify_after_it_only_the_new(
    app: Flask, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    old = endpoint.secret
    rotated = endpoints.rotate_secret(db, endpoint.id, timedelta(hours=24))
    db.commit()
    new = rotated.secret

    events.publish(db, "poll.closed", poll_id=1, article_id=None)
    db.commit()
    work(app)
    during = receiver.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)
    Webhook(new).verify(during.body, during.headers)

    # The grace ends (as 24 hours later): the next delivery is signed with the new one only.
    fresh(db)
    stored = db.get(WebhookEndpoint, endpoint.id)
    assert stored is not None
    stored.previous_expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    events.publish(db, "poll.closed", poll_id=2, article_id=None)
    db.commit()
    work(app)
    after = receiver.requests[-1]
    assert len(receiver.requests) == 2
    assert after.payload["data"]["poll"]["id"] == 2
    Webhook(new).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(after.body, after.headers)


# ---------------------------------------------------------------- failures


def test_receiver_down_then_up_delivers_each_once_in_order(
    app: Flask,
    db: Session,
    admin: User,
    article: Article,
    make_user: Callable[..., User],
    receiver: Receiver,
) -> None:
    make_endpoint(db, admin, receiver.url, ["comment.created"])
    receiver.stop()
    post_comments(db, article, make_user(), 3)
    clock = Clock()

    work(app, clock)

    states = [m.state for m in webhook_messages(db)]
    # The first failed (connection refused); the later ones wait behind it.
    assert states == [MessageState.FAILED, MessageState.PENDING, MessageState.PENDING]
    first = webhook_messages(db)[0]
    assert first.last_error and first.last_error.startswith("connection_failed")
    assert receiver.requests == []

    receiver.start()  # the same port again
    clock.advance()
    work(app, clock)

    got = [r.payload["data"]["comment"]["excerpt"] for r in receiver.requests]
    assert got == ["Goal nummer 1", "Goal nummer 2", "Goal nummer 3"]
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [m.delivery_id for m in webhook_messages(db)]
    assert all(m.state is MessageState.SENT for m in webhook_messages(db))
    clock.advance()
    work(app, clock)
    assert len(receiver.requests) == 3


def test_dead_after_the_last_try_then_the_retry_button_delivers(
    app: Flask, client: FlaskClient, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    receiver.statuses = [500, 503, 500]
    events.publish(db, "poll.closed", poll_id=5, article_id=None)
    db.commit()
    clock = Clock()

    for _ in range(3):
        work(app, clock)
        clock.advance(24)

    [message] = webhook_messages(db)
    assert message.state is MessageState.DEAD
    assert message.attempts == 3 and message.last_status_code == 500
    assert len(receiver.requests) == 3
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # the same id each try
    attempts = db.scalars(select(OutboxAttempt).where(OutboxAttempt.message_id == message.id))
    assert sorted(a.status_code or 0 for a in attempts) == [500, 500, 503]

    login(client, admin)
    page = client.get(f"/beheer/webhooks/{endpoint.id}").get_data(as_text=True)
    assert "503" in page and "antwoord zonder 2xx" in page and "opgegeven" in page
    retry_path = f"/beheer/webhooks/{endpoint.id}/berichten/{message.id}/opnieuw"
    assert page.count(retry_path) == 1  # one button, on the message's latest attempt
    assert client.post(retry_path).status_code == 303
    assert webhook_messages(db)[0].state is MessageState.PENDING

    work(app, clock)

    [message] = webhook_messages(db)
    assert message.state is MessageState.SENT
    assert len(receiver.requests) == 4
    Webhook(endpoint.secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)


def test_retry_of_another_endpoint_s_message_is_404(
    client: FlaskClient, db: Session, admin: User, receiver: Receiver
) -> None:
    first = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    second = make_endpoint(db, admin, receiver.url, ["queue.alert"])
    events.publish(db, "poll.closed", poll_id=5, article_id=None)
    db.commit()
    [message] = webhook_messages(db)
    assert message.endpoint_id == first.id
    login(client, admin)

    response = client.post(f"/beheer/webhooks/{second.id}/berichten/{message.id}/opnieuw")

    assert response.status_code == 404


def test_a_slow_receiver_times_out(app: Flask, receiver: Receiver) -> None:
    receiver.delay = 1.0
    target = Target(receiver.url, True, [endpoints.new_secret()])
    settings = {**app.config, "TRIBUNE_WEBHOOK_TIMEOUT_SECONDS": 0.2}

    outcome = send(target, "msg_slow", {"type": "webhook.test"}, settings)

    assert (outcome.ok, outcome.status_code, outcome.error) == (False, None, "timeout")


@pytest.mark.parametrize("status", [200, 201, 204, 299])
def test_any_2xx_is_delivered(app: Flask, receiver: Receiver, status: int) -> None:
    receiver.statuses = [status]
    target = Target(receiver.url, True, [endpoints.new_secret()])

    outcome = send(target, "msg_ok", {"type": "webhook.test"}, app.config)

    assert (outcome.ok, outcome.status_code) == (True, status)


@pytest.mark.parametrize("status", [301, 302, 400, 404, 410, 500])
def test_anything_else_fails_and_redirects_are_not_followed(
    app: Flask, receiver: Receiver, status: int
) -> None:
    receiver.statuses = [status]
    target = Target(receiver.url, True, [endpoints.new_secret()])

    outcome = send(target, "msg_no", {"type": "webhook.test"}, app.config)

    assert (outcome.ok, outcome.status_code) == (False, status)
    assert outcome.error == f"http_status: {status}"
    assert len(receiver.requests) == 1  # the Location was not visited


def test_private_addresses_are_refused_unless_allowed(app: Flask, receiver: Receiver) -> None:
    target = Target(receiver.url, True, [endpoints.new_secret()])
    closed = {**app.config, "TRIBUNE_WEBHOOK_ALLOW_PRIVATE": False}

    outcome = send(target, "msg_private", {"type": "webhook.test"}, closed)

    assert not outcome.ok and outcome.status_code is None
    assert outcome.error is not None and outcome.error.startswith("private_address")
    assert receiver.requests == []
    localhost = Target(receiver.url.replace("127.0.0.1", "localhost"), True, target.secrets)
    assert send(localhost, "msg_private", {}, closed).error.startswith("private_address")  # type: ignore[union-attr]
    assert receiver.requests == []


def test_a_disabled_endpoint_receives_nothing_until_it_is_on_again(
    app: Flask, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    events.publish(db, "poll.closed", poll_id=5, article_id=None)
    db.commit()
    endpoints.set_enabled(db, endpoint.id, False)
    db.commit()
    clock = Clock()

    work(app, clock)

    [message] = webhook_messages(db)
    assert message.state is MessageState.FAILED and message.last_error == "endpoint_disabled"
    assert receiver.requests == []
    endpoints.set_enabled(db, endpoint.id, True)
    db.commit()
    clock.advance()
    work(app, clock)
    assert [r.payload["type"] for r in receiver.requests] == ["poll.closed"]


def test_a_deleted_endpoint_s_messages_are_not_sent(
    app: Flask, db: Session, admin: User, receiver: Receiver
) -> None:
    endpoint = make_endpoint(db, admin, receiver.url, ["poll.closed"])
    events.publish(db, "poll.closed", poll_id=5, article_id=None)
    db.commit()
    endpoints.delete_endpoint(db, endpoint.id)
    db.commit()

    work(app)

    [message] = webhook_messages(db)
    assert message.state is MessageState.FAILED and message.last_error == "endpoint_deleted"
    assert receiver.requests == []
