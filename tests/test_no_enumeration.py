"""No enumeration of registered addresses (issue 17, point 3): registration and the reset
request answer a registered address exactly as a fresh one (status, redirect, page, cookies);
only the mail differs, and it goes to the address's owner."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import User
from tests.care_mail import Mailbox
from tests.conftest import TEST_PASSWORD
from tests.mail_server import SmtpSink

CSRF = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpSink) -> Iterator[Mailbox]:
    yield Mailbox(app, smtp_server)


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    """CSRF on, as in production: the compared pages carry their tokens (masked out)."""
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def answer(client: FlaskClient, path: str, data: dict[str, str]) -> Any:
    """POST a form the way a browser does (CSRF token from the form page), then follow the
    redirect; the answer as (status, location, cookie names set, followed page)."""
    page = client.get(path).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    payload = {**data, **({"csrf_token": token.group(1)} if token else {})}
    response = client.post(path, data=payload)
    cookies = sorted(header.split("=", 1)[0] for header in response.headers.getlist("Set-Cookie"))
    location = response.headers.get("Location")
    followed = client.get(location).get_data(as_text=True) if location else ""
    body = response.get_data(as_text=True)
    return (
        response.status_code,
        location,
        cookies,
        CSRF.sub("", body),
        CSRF.sub("", followed),
    )


def registration(name: str, email: str) -> dict[str, str]:
    return {
        "username": name,
        "email": email,
        "password": TEST_PASSWORD,
        "password_repeat": TEST_PASSWORD,
    }


def user_count(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(User)) or 0


@pytest.mark.parametrize("owner_kind", ["password", "sso"])
def test_registration_answers_a_registered_address_as_a_fresh_one(
    csrf_app: Flask,
    db: Session,
    make_user: Callable[..., User],
    mailbox: Mailbox,
    owner_kind: str,
) -> None:
    owner = make_user(username="bestaand", password_login=owner_kind == "password")
    before = user_count(db)

    taken = answer(
        csrf_app.test_client(),
        "/registreren",
        registration("Nieuwe_Naam", owner.email.upper()),
    )
    fresh = answer(
        csrf_app.test_client(),
        "/registreren",
        registration("Andere_Naam", "vers@example.test"),
    )

    assert taken == fresh
    assert taken[0] == 303 and taken[1] == "/registreren/verstuurd"
    assert "Kijk in je mailbox" in taken[4]
    # One account more (the fresh one); the owner gets a mail, the fresh address its link.
    assert user_count(db) == before + 1
    [to_owner] = mailbox.to(owner.email)
    assert to_owner.kind == "address_in_use"
    assert [mail.kind for mail in mailbox.to("vers@example.test")] == ["verify_email"]


def test_a_taken_username_is_still_named(client: FlaskClient, make_user: Callable) -> None:
    make_user(username="publiek")
    response = client.post("/registreren", data=registration("PUBLIEK", "x@example.test"))
    assert response.status_code == 409
    assert "Die gebruikersnaam is al in gebruik." in response.get_data(as_text=True)


@pytest.mark.parametrize("owner_kind", ["password", "sso", "inactive"])
def test_the_reset_request_answers_a_registered_address_as_an_unknown_one(
    csrf_app: Flask, make_user: Callable[..., User], mailbox: Mailbox, owner_kind: str
) -> None:
    fields = {"sso": {"password_login": False}, "inactive": {"is_active": False}}.get(
        owner_kind, {}
    )
    owner = make_user(username="vergeten", **fields)

    known = answer(csrf_app.test_client(), "/wachtwoord-vergeten", {"email": owner.email})
    unknown = answer(
        csrf_app.test_client(), "/wachtwoord-vergeten", {"email": "niemand@example.test"}
    )

    assert known == unknown
    assert known[0] == 303 and known[1] == "/wachtwoord-vergeten/verstuurd"
    sent = [mail.kind for mail in mailbox.to(owner.email)]
    assert sent == (["password_reset"] if owner_kind == "password" else [])
    assert mailbox.to("niemand@example.test") == []
