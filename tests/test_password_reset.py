"""Password reset (issue 17, point 3): /wachtwoord-vergeten mails a single-use link valid for
an hour; the link's page sets a password by the registration's rules, ends every session
(cookies, remember-me, embed tokens) and sends to /login; a dead link gets a Dutch page."""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.embed_sessions import EmbedRefusal, find_embed_session, issue_embed_session
from models import AccountToken, EmbedVia, TokenPurpose, User, utcnow
from tests.care_mail import Mailbox, link
from tests.conftest import TEST_PASSWORD, login
from tests.mail_server import SmtpSink

NEW_PASSWORD = "een gloednieuw wachtwoord"
RESET = "/wachtwoord-herstellen/"
DEAD = "Deze link werkt niet (meer)"


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpSink) -> Iterator[Mailbox]:
    yield Mailbox(app, smtp_server)


def is_logged_in(client: FlaskClient) -> bool:
    response = client.get("/profiel")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def ask_reset(client: FlaskClient, email: str) -> Any:
    return client.post("/wachtwoord-vergeten", data={"email": email})


def reset_link(mailbox: Mailbox, user: User) -> str:
    mails = [mail for mail in mailbox.to(user.email) if mail.kind == "password_reset"]
    assert mails, mailbox.deliver()
    return link(mails[-1], RESET)


def set_new(client: FlaskClient, path: str, password: str, repeat: str | None = None) -> Any:
    return client.post(
        path, data={"password": password, "password_repeat": password if repeat is None else repeat}
    )


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_the_login_page_links_to_the_reset_page(client: FlaskClient) -> None:
    page = text(client.get("/login"))
    assert 'href="/wachtwoord-vergeten"' in page and "Wachtwoord vergeten?" in page
    assert client.get("/wachtwoord-vergeten").status_code == 200


def test_a_reset_link_sets_a_password_that_logs_in_and_ends_every_session(
    app: Flask, db: Session, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user(username="vergeetachtig")
    old_browser = app.test_client()
    login(old_browser, fan, remember=True)
    remembered = app.test_client()
    remember_cookie = old_browser.get_cookie("tribune_remember")
    assert remember_cookie is not None
    remembered.set_cookie("tribune_remember", remember_cookie.value)
    _, embed_token = issue_embed_session(db, fan, EmbedVia.LOGIN)
    db.commit()

    client = app.test_client()
    asked = ask_reset(client, "Vergeetachtig@Example.test ")
    assert asked.status_code == 303
    assert asked.headers["Location"] == "/wachtwoord-vergeten/verstuurd"
    assert "Kijk in je mailbox" in text(client.get(asked.headers["Location"]))

    path = reset_link(mailbox, fan)
    form = client.get(path)
    assert form.status_code == 200
    assert "vergeetachtig" in text(form)
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert "no-store" in form.headers["Cache-Control"]

    done = set_new(client, path, NEW_PASSWORD)
    assert done.status_code == 303
    assert done.headers["Location"] == "/login"
    assert "Je nieuwe wachtwoord is ingesteld" in text(client.get("/login"))

    # Every earlier session is gone: the cookie session, the remember-me cookie, the embed.
    assert not is_logged_in(old_browser)
    assert not is_logged_in(remembered)
    db.expire_all()
    assert find_embed_session(db, embed_token) is EmbedRefusal.ENDED
    # The new password logs in, the old one no longer does.
    assert (
        client.post("/login", data={"login": fan.username, "password": TEST_PASSWORD}).status_code
        == 200
    )
    assert (
        client.post("/login", data={"login": fan.username, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert is_logged_in(client)
    # Single use.
    again = app.test_client().get(path)
    assert again.status_code == 404 and DEAD in text(again)


def test_a_weak_or_mismatched_password_is_refused_beside_the_field_and_the_link_still_works(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user(username="zwakwachtwoord")
    ask_reset(client, fan.email)
    path = reset_link(mailbox, fan)

    short = set_new(client, path, "kort")
    assert short.status_code == 422
    assert "Kies een wachtwoord van minstens 10 tekens." in text(short)
    common = set_new(client, path, "wachtwoord123")
    assert common.status_code == 422
    assert 'aria-invalid="true"' in text(common)
    personal = set_new(client, path, "zwakwachtwoord-2026")
    assert personal.status_code == 422
    assert "gebruikersnaam" in text(personal)
    different = set_new(client, path, NEW_PASSWORD, "iets heel anders hier")
    assert different.status_code == 422
    assert "De wachtwoorden zijn niet gelijk." in text(different)

    assert set_new(client, path, NEW_PASSWORD).status_code == 303


def test_a_newer_request_replaces_the_older_link(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    ask_reset(client, fan.email)
    first = reset_link(mailbox, fan)
    ask_reset(client, fan.email)
    second = reset_link(mailbox, fan)

    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    assert set_new(client, first, NEW_PASSWORD).status_code == 404
    assert set_new(client, second, NEW_PASSWORD).status_code == 303


def test_an_expired_link_gets_the_dutch_page(
    client: FlaskClient, db: Session, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    ask_reset(client, fan.email)
    path = reset_link(mailbox, fan)
    token = db.scalars(select(AccountToken).where(AccountToken.user_id == fan.id)).one()
    assert token.purpose is TokenPurpose.RESET
    # Valid one hour, and only its hash is stored.
    assert timedelta(minutes=59) < token.expires_at - token.created_at <= timedelta(hours=1)
    assert path.rsplit("/", 1)[1] not in token.token_hash
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()

    page = client.get(path)
    assert page.status_code == 404
    assert DEAD in text(page) and "/wachtwoord-vergeten" in text(page)
    assert set_new(client, path, NEW_PASSWORD).status_code == 404


@pytest.mark.parametrize(
    "token", ["x", "0" * 43, "a" * 500, "%00", "..%2E%2Eetc", "é", "abc def", "<script>"]
)
def test_an_unknown_or_hostile_token_is_the_dead_link_page(client: FlaskClient, token: str) -> None:
    for response in (client.get(RESET + token), set_new(client, RESET + token, NEW_PASSWORD)):
        assert response.status_code == 404
        assert DEAD in text(response)


def test_a_password_changed_on_the_profile_ends_the_mailed_link(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    ask_reset(client, fan.email)
    path = reset_link(mailbox, fan)
    login(client, fan)
    changed = client.post(
        "/profiel/wachtwoord", data={"current": TEST_PASSWORD, "new": NEW_PASSWORD}
    )
    assert changed.status_code == 303

    assert client.get(path).status_code == 404


@pytest.mark.parametrize("kind", ["sso", "inactive", "unknown"])
def test_no_mail_for_sso_inactive_or_unknown_accounts_and_the_same_answer(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox, kind: str
) -> None:
    fields = {"sso": {"password_login": False}, "inactive": {"is_active": False}}.get(kind, {})
    fan = make_user(**fields)
    email = fan.email if kind != "unknown" else "niemand@example.test"

    asked = ask_reset(client, email)

    assert asked.status_code == 303
    assert asked.headers["Location"] == "/wachtwoord-vergeten/verstuurd"
    assert mailbox.deliver() == []


def test_an_invalid_address_is_refused_beside_the_field(client: FlaskClient) -> None:
    response = ask_reset(client, "")
    assert response.status_code == 422
    assert 'aria-invalid="true"' in text(response)


# ---------------------------------------------------------------- throttling


@pytest.fixture
def throttled(app_settings: dict[str, Any]) -> dict[str, Any]:
    app_settings["TRIBUNE_RATELIMIT_ENABLED"] = True
    app_settings["RATELIMIT_STORAGE_URI"] = "memory://"
    app_settings["TRIBUNE_RESET_LIMIT_ADDRESS"] = "2 per hour"
    app_settings["TRIBUNE_RESET_LIMIT_IP"] = "4 per hour"
    return app_settings


@pytest.mark.parametrize("known", [True, False])
def test_requests_are_throttled_per_address_whether_it_has_an_account_or_not(
    throttled: dict[str, Any], app: Flask, make_user: Callable[..., User], known: bool
) -> None:
    # Limiter counters may outlive one test's app: addresses no other test uses.
    fan = make_user(username=f"fan_{uuid.uuid4().hex[:12]}")
    email = fan.email if known else f"onbekend-{fan.email}"
    statuses = [ask_reset(app.test_client(), email).status_code for _ in range(3)]
    assert statuses == [303, 303, 429]
    # Another address from the same IP still goes through (the IP limit is higher).
    assert ask_reset(app.test_client(), f"ander-{uuid.uuid4().hex}@example.test").status_code == 303


def test_requests_are_throttled_per_ip(
    throttled: dict[str, Any], app: Flask, make_user: Callable[..., User]
) -> None:
    client = app.test_client()
    run = uuid.uuid4().hex
    statuses = [ask_reset(client, f"adres{n}-{run}@example.test").status_code for n in range(5)]
    assert statuses == [303, 303, 303, 303, 429]
    other_ip = client.post(
        "/wachtwoord-vergeten",
        data={"email": f"adres9-{run}@example.test"},
        environ_base={"REMOTE_ADDR": "10.9.8.7"},
    )
    assert other_ip.status_code == 303
