"""Webhooks: the admin page (/beheer/webhooks), the URL rules, secrets and their rotation, and
the subscribers that turn domain events into outbox messages (one per subscribed endpoint)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import events
from app import create_app
from errors import Invalid
from models import Article, Channel, CommentState, OutboxMessage, Role, User, WebhookEndpoint
from models.base import utcnow
from tests.conftest import TEST_PASSWORD, login
from tests.factories import create_comment, fresh
from webhooks import endpoints
from webhooks.cache import EndpointCache
from webhooks.endpoints import WEBHOOK_EVENTS, UrlPolicy, check_url
from webhooks.signing import new_secret, secret_key, webhook_headers
from webhooks.transport import is_public

CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
RECEIVER = "http://127.0.0.1:9/hook"


@pytest.fixture(autouse=True)
def private_webhooks(app_settings: dict[str, Any]) -> None:
    """The test configuration lets webhooks go to 127.0.0.1 (TRIBUNE_WEBHOOK_ALLOW_PRIVATE)."""
    app_settings["TRIBUNE_WEBHOOK_ALLOW_PRIVATE"] = True


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., User]) -> User:
    user = make_user(Role.ADMIN, username="Beheerder")
    login(client, user)
    return user


def make_endpoint(
    db: Session,
    actor: User,
    events_: list[str],
    enabled: bool = True,
    url: str = RECEIVER,
) -> WebhookEndpoint:
    endpoint = endpoints.create_endpoint(
        db, actor, url, "test", events_, UrlPolicy(allow_private=True), enabled=enabled
    )
    db.commit()
    return endpoint


def messages(db: Session) -> list[OutboxMessage]:
    fresh(db)
    return list(
        db.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.channel == Channel.WEBHOOK)
            .order_by(OutboxMessage.id)
        )
    )


# ---------------------------------------------------------------- signing (no database)


def test_a_secret_is_whsec_and_at_least_24_random_bytes() -> None:
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_") and first != second
    assert len(secret_key(first)) >= 24
    assert base64.b64encode(secret_key(first)).decode() == first.removeprefix("whsec_")


def test_signatures_verify_with_the_reference_implementation() -> None:
    secret = new_secret()
    body = json.dumps({"type": "comment.created", "data": {"tekst": "Één goal"}}).encode()
    headers = webhook_headers([secret], "msg_1", int(utcnow().timestamp()), body)

    assert Webhook(secret).verify(body, headers) == json.loads(body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, headers)


def test_two_secrets_give_two_signatures_each_verifies() -> None:
    old, new = new_secret(), new_secret()
    body = b'{"type":"webhook.test"}'
    headers = webhook_headers([new, old], "msg_2", int(utcnow().timestamp()), body)

    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


# ---------------------------------------------------------------- URL rules

OPEN = UrlPolicy(allow_private=True)
STRICT = UrlPolicy()


@pytest.mark.parametrize(
    ("url", "policy"),
    [
        ("https://tools.example.be/tribune", STRICT),
        ("https://tools.example.be:8443/hook?kanaal=sport", STRICT),
        ("https://93.184.216.34/hook", STRICT),
        ("http://localhost:8080/hook", OPEN),
        ("http://127.0.0.1:9000/hook", OPEN),
        ("http://[::1]:9000/hook", OPEN),
        ("http://tools.example.be/hook", UrlPolicy(allow_http=True)),
    ],
)
def test_accepted_urls(url: str, policy: UrlPolicy) -> None:
    assert check_url(f"  {url} ", policy) == url


@pytest.mark.parametrize(
    ("url", "policy", "words"),
    [
        ("", STRICT, "Vul de URL"),
        ("tools.example.be/hook", STRICT, "https://"),
        ("ftp://tools.example.be/hook", STRICT, "https://"),
        ("http://tools.example.be/hook", STRICT, "Gebruik https://"),
        ("http://tools.example.be/hook", OPEN, "Gebruik https://"),
        ("https://gebruiker:geheim@tools.example.be/hook", STRICT, "wachtwoord"),
        ("https://tools.example.be/hook#x", STRICT, "#"),
        ("https://tools.example.be:99999/hook", STRICT, "geen geldige URL"),
        ("http://localhost:8080/hook", STRICT, "intern adres"),
        ("https://10.0.0.5/hook", STRICT, "intern adres"),
        ("https://169.254.169.254/latest/meta-data", STRICT, "intern adres"),
        ("https://[::ffff:127.0.0.1]/hook", STRICT, "intern adres"),
        ("https://x.localhost/hook", STRICT, "intern adres"),
        ("https://tools.example.be/" + "a" * 2000, STRICT, "Hoogstens"),
    ],
)
def test_refused_urls(url: str, policy: UrlPolicy, words: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_url(url, policy)

    assert refused.value.code == "invalid_webhook_url"
    assert refused.value.details == {"field": "url"}
    assert words in refused.value.message


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("2a00:1450:4001:80b::200e", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_count_as_public(address: str, public: bool) -> None:
    assert is_public(address) is public


# ---------------------------------------------------------------- the admin page


@pytest.mark.parametrize("role", [Role.FAN, Role.MODERATOR, Role.EDITOR])
def test_only_admins_see_the_page(
    client: FlaskClient, make_user: Callable[..., User], role: Role
) -> None:
    login(client, make_user(role))

    assert client.get("/beheer/webhooks").status_code == 403
    assert client.post("/beheer/webhooks", data={"url": RECEIVER}).status_code == 403


def test_anonymous_is_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/beheer/webhooks")

    assert response.status_code in (302, 401)


def _create(client: FlaskClient, **fields: Any) -> Any:
    data = {
        "url": RECEIVER,
        "description": "Slack eindredactie",
        "events": ["comment.created", "report.created"],
        "enabled": "y",
    }
    data.update(fields)
    return client.post("/beheer/webhooks", data=data)


def test_register_shows_the_secret_once(client: FlaskClient, db: Session, admin: User) -> None:
    response = _create(client)

    assert response.status_code == 303
    endpoint = db.scalars(select(WebhookEndpoint)).one()
    assert response.headers["Location"].endswith(f"/beheer/webhooks/{endpoint.id}")
    assert endpoint.events == ["comment.created", "report.created"]
    assert endpoint.enabled and endpoint.created_by_id == admin.id
    first = client.get(f"/beheer/webhooks/{endpoint.id}")
    assert first.status_code == 200
    assert endpoint.secret in first.get_data(as_text=True)
    assert "één keer" in first.get_data(as_text=True)
    assert "no-store" in first.headers["Cache-Control"]
    again = client.get(f"/beheer/webhooks/{endpoint.id}")
    assert endpoint.secret not in again.get_data(as_text=True)
    assert endpoint.secret not in client.get("/beheer/webhooks").get_data(as_text=True)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "http://tools.example.be/hook"}, "Gebruik https://"),
        ({"url": "niet een url"}, "begint met https://"),
        ({"url": ""}, "Vul de URL van het eindpunt in."),
        ({"events": []}, "Kies minstens één gebeurtenis."),
        ({"events": ["user.suspended"]}, "Kies uit de lijst."),
        ({"description": "x" * 201}, "Hoogstens 200 tekens."),
    ],
)
def test_refusals_come_back_beside_the_field_with_the_input_kept(
    client: FlaskClient, db: Session, admin: User, fields: dict[str, Any], message: str
) -> None:
    response = _create(client, **fields)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'class="form-error"' in page
    assert 'aria-invalid="true"' in page
    typed = fields.get("url", RECEIVER)
    if typed:
        assert f'value="{typed}"' in page
    assert db.scalars(select(WebhookEndpoint)).first() is None


def test_a_private_address_is_refused_when_the_setting_is_off(
    app_settings: dict[str, Any], make_user: Callable[..., User]
) -> None:
    app_settings["TRIBUNE_WEBHOOK_ALLOW_PRIVATE"] = False
    app = create_app(app_settings)
    try:
        client = app.test_client()
        login(client, make_user(Role.ADMIN))
        response = _create(client)
        assert response.status_code == 422
        assert "intern adres" in response.get_data(as_text=True)
    finally:
        app.extensions["tribune.engine"].dispose()


def test_edit_switch_and_delete(client: FlaskClient, db: Session, admin: User) -> None:
    endpoint_id = make_endpoint(db, admin, ["comment.created"]).id
    base = f"/beheer/webhooks/{endpoint_id}"

    edited = client.post(
        base,
        data={
            "url": "http://localhost:9/nieuw",
            "description": "nieuw",
            "events": ["poll.closed", "queue.alert"],
        },
    )
    assert edited.status_code == 303
    fresh(db)
    stored = db.get(WebhookEndpoint, endpoint_id)
    assert stored is not None
    assert (stored.url, stored.events, stored.enabled) == (
        "http://localhost:9/nieuw",
        ["poll.closed", "queue.alert"],
        False,  # the box was not ticked
    )
    listed = client.get("/beheer/webhooks").get_data(as_text=True)
    assert "Aanzetten" in listed
    assert re.search(r'<input[^>]*name="aan"[^>]*value="1"', listed)
    switched = client.post(f"{base}/status", data={"aan": "1", "terug": "lijst"})
    assert switched.status_code == 303 and switched.headers["Location"] == "/beheer/webhooks"
    fresh(db)
    assert db.get(WebhookEndpoint, endpoint_id).enabled  # type: ignore[union-attr]
    assert client.post(f"{base}/status", data={"aan": "0"}).headers["Location"] == base
    fresh(db)
    assert not db.get(WebhookEndpoint, endpoint_id).enabled  # type: ignore[union-attr]
    assert client.post(f"{base}/status", data={"aan": "1"}).status_code == 303

    asked = client.post(f"{base}/verwijderen")
    assert asked.status_code == 200 and "Ja, verwijder" in asked.get_data(as_text=True)
    fresh(db)
    assert db.get(WebhookEndpoint, endpoint_id) is not None
    gone = client.post(f"{base}/verwijderen", data={"bevestigd": "ja"})
    assert gone.status_code == 303
    fresh(db)
    assert db.get(WebhookEndpoint, endpoint_id) is None
    assert client.get(base).status_code == 404


def test_a_refused_edit_keeps_the_input_beside_the_field(
    client: FlaskClient, db: Session, admin: User
) -> None:
    endpoint = make_endpoint(db, admin, ["comment.created"])

    response = client.post(
        f"/beheer/webhooks/{endpoint.id}",
        data={"url": "ftp://tools.example.be", "events": ["comment.created"], "enabled": "y"},
    )

    assert response.status_code == 422
    assert 'value="ftp://tools.example.be"' in response.get_data(as_text=True)
    fresh(db)
    assert db.get(WebhookEndpoint, endpoint.id).url == RECEIVER  # type: ignore[union-attr]


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_for_the_grace(
    client: FlaskClient, db: Session, admin: User
) -> None:
    endpoint = make_endpoint(db, admin, ["comment.created"])
    old = endpoint.secret
    before = utcnow()

    response = client.post(f"/beheer/webhooks/{endpoint.id}/geheim")

    assert response.status_code == 303
    fresh(db)
    stored = db.get(WebhookEndpoint, endpoint.id)
    assert stored is not None and stored.secret != old and stored.previous_secret == old
    assert stored.previous_expires_at is not None
    grace = stored.previous_expires_at - before
    assert timedelta(hours=24) <= grace < timedelta(hours=24, minutes=1)
    assert stored.signing_secrets(utcnow()) == [stored.secret, old]
    assert stored.signing_secrets(stored.previous_expires_at) == [stored.secret]
    page = client.get(f"/beheer/webhooks/{endpoint.id}").get_data(as_text=True)
    assert stored.secret in page and old not in page
    assert stored.secret not in client.get(f"/beheer/webhooks/{endpoint.id}").get_data(as_text=True)


def test_the_test_button_queues_a_test_event(client: FlaskClient, db: Session, admin: User) -> None:
    endpoint = make_endpoint(db, admin, ["poll.closed"])

    assert client.post(f"/beheer/webhooks/{endpoint.id}/test").status_code == 303

    [message] = messages(db)
    assert (message.endpoint_id, message.kind) == (endpoint.id, "webhook.test")
    assert message.payload["type"] == "webhook.test"
    assert message.payload["data"]["endpoint_id"] == endpoint.id


def test_no_test_event_for_an_endpoint_that_is_off(
    client: FlaskClient, db: Session, admin: User
) -> None:
    endpoint = make_endpoint(db, admin, ["poll.closed"], enabled=False)

    response = client.post(
        f"/beheer/webhooks/{endpoint.id}/test", headers={"Accept": "application/json"}
    )

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "webhook_disabled"
    assert messages(db) == []


def test_every_post_needs_the_csrf_token(
    app_settings: dict[str, Any], db: Session, make_user: Callable[..., User]
) -> None:
    app_settings["WTF_CSRF_ENABLED"] = True
    app = create_app(app_settings)
    try:
        client = app.test_client()
        login_page = client.get("/login").get_data(as_text=True)
        admin = make_user(Role.ADMIN)
        token = CSRF_FIELD.search(login_page).group(1)  # type: ignore[union-attr]
        client.post(
            "/login",
            data={"login": admin.username, "password": TEST_PASSWORD, "csrf_token": token},
        )
        endpoint = make_endpoint(db, admin, ["comment.created"])
        base = f"/beheer/webhooks/{endpoint.id}"
        for path, data in (
            ("/beheer/webhooks", {"url": RECEIVER, "events": ["comment.created"]}),
            (base, {"url": RECEIVER, "events": ["poll.closed"]}),
            (f"{base}/status", {"aan": "0"}),
            (f"{base}/geheim", {}),
            (f"{base}/test", {}),
            (f"{base}/verwijderen", {"bevestigd": "ja"}),
        ):
            assert client.post(path, data=data).status_code == 400, path
        fresh(db)
        assert db.scalars(select(WebhookEndpoint)).all() == [endpoint]
        assert db.get(WebhookEndpoint, endpoint.id).secret == endpoint.secret  # type: ignore[union-attr]
        page = client.get("/beheer/webhooks").get_data(as_text=True)
        token = CSRF_FIELD.search(page).group(1)  # type: ignore[union-attr]
        created = client.post(
            "/beheer/webhooks",
            data={"url": RECEIVER, "events": ["comment.created"], "csrf_token": token},
        )
        assert created.status_code == 303
    finally:
        app.extensions["tribune.engine"].dispose()


# ---------------------------------------------------------------- subscribers


@pytest.fixture
def thread(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> dict[str, Any]:
    """An article with a published comment by a fan (before any endpoint exists)."""
    author = make_user(username="Maneblusser")
    article = make_article(cms_id="kvm-club", url="https://www.example.be/kvm-club")
    comment = create_comment(db, article, author, CommentState.PUBLISHED, body="Mooie goal!")
    return {"author": author, "article": article, "comment": comment}


def event_samples(thread: dict[str, Any], actor: User) -> dict[str, dict[str, Any]]:
    comment, article, author = thread["comment"], thread["article"], thread["author"]
    return {
        "comment.created": {
            "comment_id": comment.id,
            "article_id": article.id,
            "author_id": author.id,
            "parent_id": None,
            "state": "published",
        },
        "comment.state_changed": {
            "comment_id": comment.id,
            "article_id": article.id,
            "author_id": author.id,
            "from_state": "published",
            "to_state": "removed",
            "action": "remove",
            "actor_id": actor.id,
            "automated": False,
            "reason_code": "spam",
            "note": "interne notitie",
        },
        "report.created": {
            "report_id": 7,
            "comment_id": comment.id,
            "reporter_id": actor.id,
            "reason": "spam",
        },
        "appeal.created": {"appeal_id": 3, "comment_id": comment.id, "author_id": author.id},
        "poll.closed": {"poll_id": 11, "article_id": article.id},
        "queue.alert": {"oldest_wait_minutes": 42, "held": 17},
    }


@pytest.mark.parametrize("name", list(WEBHOOK_EVENTS))
def test_each_event_goes_to_subscribed_enabled_endpoints_only(
    db: Session, make_user: Callable[..., User], thread: dict[str, Any], name: str
) -> None:
    admin = make_user(Role.ADMIN)
    wanted = make_endpoint(db, admin, [name])
    also = make_endpoint(db, admin, list(WEBHOOK_EVENTS))
    make_endpoint(db, admin, [other for other in WEBHOOK_EVENTS if other != name])
    make_endpoint(db, admin, [name], enabled=False)

    events.publish(db, name, **event_samples(thread, admin)[name])
    db.commit()

    found = messages(db)
    assert sorted(m.endpoint_id for m in found) == [wanted.id, also.id]
    assert {m.recipient for m in found} == {RECEIVER}  # shown on /beheer/bezorging
    assert {m.kind for m in found} == {name}
    payload = found[0].payload
    assert payload["type"] == name and payload["timestamp"]
    assert found[0].payload == found[1].payload


def test_the_payloads_say_what_a_newsroom_needs_and_nothing_private(
    db: Session, make_user: Callable[..., User], thread: dict[str, Any]
) -> None:
    admin = make_user(Role.ADMIN, username="Scheids")
    make_endpoint(db, admin, list(WEBHOOK_EVENTS))
    samples = event_samples(thread, admin)

    for name, data in samples.items():
        events.publish(db, name, **data)
    db.commit()

    by_type = {m.kind: m.payload["data"] for m in messages(db)}
    comment = thread["comment"]
    created = by_type["comment.created"]
    assert created["comment"]["id"] == comment.id
    assert created["comment"]["state"] == "published"
    assert created["comment"]["excerpt"] == "Mooie goal!"
    assert created["article"] == {
        "id": "kvm-club",
        "title": thread["article"].title,
        "url": "https://www.example.be/kvm-club",
    }
    assert created["author"] == {"id": thread["author"].id, "username": "Maneblusser"}
    changed = by_type["comment.state_changed"]
    assert (changed["from_state"], changed["to_state"], changed["reason_code"]) == (
        "published",
        "removed",
        "spam",
    )
    assert changed["actor"] == {"id": admin.id, "username": "Scheids"}
    assert by_type["report.created"]["report"] == {"id": 7, "reason": "spam"}
    assert by_type["report.created"]["article"]["id"] == "kvm-club"
    assert by_type["appeal.created"]["appeal"] == {"id": 3}
    assert by_type["poll.closed"]["article"]["id"] == "kvm-club"
    assert by_type["queue.alert"] == {"oldest_wait_minutes": 42, "held": 17}
    text = json.dumps(by_type)
    assert thread["author"].email not in text and admin.email not in text
    assert "ip_hash" not in text and "interne notitie" not in text
    assert "reporter" not in text  # who reported a comment is not told


def test_a_long_comment_is_sent_as_an_excerpt(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> None:
    admin = make_user(Role.ADMIN)
    make_endpoint(db, admin, ["comment.created"])
    body = "Wat een wedstrijd was dat gisteren in het stadion. " * 20

    create_comment(db, make_article(), make_user(), CommentState.PUBLISHED, body=body)

    [message] = messages(db)
    excerpt = message.payload["data"]["comment"]["excerpt"]
    assert len(excerpt) <= 280 and excerpt.endswith("…")
    assert body.startswith(excerpt[:-1])


def test_a_real_post_through_the_api_queues_comment_created(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    admin = make_user(Role.ADMIN)
    endpoint = make_endpoint(db, admin, ["comment.created"])
    article = make_article(cms_id="derby")
    login(client, make_user(username="Fan1"))

    response = client.post(
        "/api/v1/articles/derby/comments",
        json={"body": "Mooie goal van Defour!"},
        headers={"Origin": "http://localhost"},
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    [message] = messages(db)
    assert message.endpoint_id == endpoint.id
    assert message.payload["data"]["article"]["id"] == article.cms_id
    assert message.payload["data"]["comment"]["id"] == response.get_json()["id"]


def test_a_new_endpoint_is_seen_at_once(
    client: FlaskClient, db: Session, admin: User, thread: dict[str, Any]
) -> None:
    sample = event_samples(thread, admin)["poll.closed"]
    events.publish(db, "poll.closed", **sample)  # warms the cache: no endpoint
    db.commit()
    assert messages(db) == []

    assert _create(client, events=["poll.closed"]).status_code == 303
    fresh(db)  # a new transaction, which sees the request's commit
    events.publish(db, "poll.closed", **sample)
    db.commit()

    assert [m.kind for m in messages(db)] == ["poll.closed"]


def test_no_endpoints_costs_no_query(app: Flask, db: Session, thread: dict[str, Any]) -> None:
    sample = event_samples(thread, thread["author"])["comment.created"]
    events.publish(db, "comment.created", **sample)  # the first look-up reads the table
    statements: list[str] = []
    engine = app.extensions["tribune.engine"]

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        events.publish(db, "comment.created", **sample)
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert statements == []


def test_the_cache_sees_another_process_s_change_after_its_ttl(
    db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN)
    clock = [100.0]
    cache = EndpointCache(ttl=5.0, clock=lambda: clock[0])
    assert cache.subscribers(db, "poll.closed") == []
    # Another process registers an endpoint: this process's services never hear of it.
    db.execute(
        insert(WebhookEndpoint).values(
            url=RECEIVER,
            description="",
            events=["poll.closed"],
            enabled=True,
            secret=new_secret(),
            created_by_id=admin.id,
            created_at=utcnow(),
            updated_at=utcnow(),
        )
    )
    db.commit()

    clock[0] += 4.9
    assert cache.subscribers(db, "poll.closed") == []
    clock[0] += 0.2
    assert len(cache.subscribers(db, "poll.closed")) == 1


def test_a_long_url_is_shortened_only_where_the_outbox_shows_it(
    db: Session, make_user: Callable[..., User], thread: dict[str, Any]
) -> None:
    admin = make_user(Role.ADMIN)
    long_url = "https://tools.example.be/" + "x" * 1970
    endpoint = make_endpoint(db, admin, ["queue.alert"], url=long_url)

    events.publish(db, "queue.alert", held=3)
    db.commit()

    [message] = messages(db)
    assert len(message.recipient) == 500 and message.recipient.endswith("…")
    assert long_url.startswith(message.recipient[:-1])
    assert db.get(WebhookEndpoint, endpoint.id).url == long_url  # type: ignore[union-attr]
