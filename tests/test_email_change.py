"""Change of address on /profiel (issue 17, point 3): the password starts it, a link goes to the
new address and the address changes only when it is followed; the old address gets a notice.
A new address that already has an account answers the same and mails its owner instead."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import User
from tests.care_mail import Mailbox, link
from tests.conftest import TEST_PASSWORD, login
from tests.mail_server import SmtpSink

CHANGE = "/e-mail-wijzigen/"
NEW = "nieuw.adres@example.test"


@pytest.fixture
def mailbox(app: Flask, smtp_server: SmtpSink) -> Iterator[Mailbox]:
    yield Mailbox(app, smtp_server)


def page_text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def ask_change(client: FlaskClient, new_email: str, password: str = TEST_PASSWORD) -> Any:
    return client.post("/profiel/e-mail", data={"new_email": new_email, "password": password})


def current_email(db: Session, user: User) -> str:
    db.rollback()  # end the read snapshot: see what the requests committed
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found.email


def test_the_address_changes_only_when_the_link_to_the_new_address_is_followed(
    client: FlaskClient, db: Session, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user(username="verhuizer")
    old = fan.email
    login(client, fan)
    assert "E-mailadres" in page_text(client.get("/profiel"))

    asked = ask_change(client, " Nieuw.Adres@Example.test ")
    assert asked.status_code == 303
    assert f"We stuurden een link naar {NEW}" in page_text(client.get("/profiel"))
    assert current_email(db, fan) == old

    [confirm] = mailbox.to(NEW)
    assert confirm.kind == "email_change_confirm"
    [notice] = mailbox.to(old)
    assert notice.kind == "email_change_notice" and NEW in notice.text
    path = link(confirm, CHANGE)

    # Opening the link changes nothing; its button does.
    page = client.get(path)
    assert page.status_code == 200 and NEW in page_text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert current_email(db, fan) == old
    done = client.post(path)
    assert done.status_code == 200
    assert f"Je account gebruikt nu <strong>{NEW}</strong>" in page_text(done)
    assert current_email(db, fan) == NEW
    assert db.get(User, fan.id).email_verified_at is not None  # type: ignore[union-attr]

    # Single use; the account now logs in with the new address.
    assert client.post(path).status_code == 404
    other = client.application.test_client()
    assert other.post("/login", data={"login": NEW, "password": TEST_PASSWORD}).status_code == 302


def test_links_mailed_to_the_old_address_stop_working_after_the_change(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    client.post("/wachtwoord-vergeten", data={"email": fan.email})
    reset = link(mailbox.to(fan.email)[-1], "/wachtwoord-herstellen/")
    login(client, fan)
    ask_change(client, NEW)
    client.post(link(mailbox.to(NEW)[-1], CHANGE))

    assert client.get(reset).status_code == 404


@pytest.mark.parametrize(
    ("new_email", "password", "field_message"),
    [
        (NEW, "verkeerd wachtwoord", "Je wachtwoord klopt niet."),
        ("geen-adres", TEST_PASSWORD, "Dat e-mailadres is ongeldig."),
        ("", TEST_PASSWORD, "Vul dit veld in."),
        (NEW, "", "Vul dit veld in."),
    ],
)
def test_a_refused_change_is_shown_beside_the_field_and_sends_nothing(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    mailbox: Mailbox,
    new_email: str,
    password: str,
    field_message: str,
) -> None:
    fan = make_user()
    login(client, fan)

    response = ask_change(client, new_email, password)

    assert response.status_code == 422
    page = page_text(response)
    assert field_message in page and 'aria-invalid="true"' in page
    assert mailbox.deliver() == []
    assert current_email(db, fan) == fan.email


def test_the_same_address_is_refused(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    login(client, fan)
    response = ask_change(client, fan.email.upper())
    assert response.status_code == 422
    assert "Dat is al het e-mailadres van je account." in page_text(response)
    assert mailbox.deliver() == []


def test_an_address_with_an_account_answers_the_same_and_mails_its_owner(
    client: FlaskClient, db: Session, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    owner = make_user(username="eigenaar")
    fan = make_user(username="nieuwsgierig")
    login(client, fan)

    taken = ask_change(client, owner.email)
    taken_page = page_text(client.get("/profiel"))
    fresh = ask_change(client, NEW)
    fresh_page = page_text(client.get("/profiel"))

    assert taken.status_code == fresh.status_code == 303
    assert taken.headers["Location"] == fresh.headers["Location"]
    assert f"We stuurden een link naar {owner.email}" in taken_page
    assert f"We stuurden een link naar {NEW}" in fresh_page
    [to_owner] = mailbox.to(owner.email)
    assert to_owner.kind == "address_in_use"
    assert [mail.kind for mail in mailbox.to(fan.email)] == ["email_change_notice"] * 2
    assert current_email(db, fan) == fan.email


def test_an_address_taken_before_the_link_is_followed_is_refused_with_a_dutch_page(
    app: Flask,
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    mailbox: Mailbox,
) -> None:
    fan = make_user()
    login(client, fan)
    ask_change(client, NEW)
    path = link(mailbox.to(NEW)[-1], CHANGE)
    make_user(username="sneller", email=NEW)

    response = client.post(path)

    assert response.status_code == 409
    assert "hoort intussen bij een ander account" in page_text(response)
    assert current_email(db, fan) == fan.email


def test_a_newer_request_replaces_the_older_link(
    client: FlaskClient, db: Session, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    fan = make_user()
    login(client, fan)
    ask_change(client, NEW)
    first = link(mailbox.to(NEW)[-1], CHANGE)
    ask_change(client, "nog.een@example.test")
    second = link(mailbox.to("nog.een@example.test")[-1], CHANGE)

    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 200
    assert current_email(db, fan) == "nog.een@example.test"


def test_an_sso_account_has_no_change_of_address(
    client: FlaskClient, make_user: Callable[..., User], mailbox: Mailbox
) -> None:
    # SSO accounts cannot log in with a password; sign one in the way the profile sees it.
    fan = make_user()
    login(client, fan)
    db_fan: Any = fan
    session = client.application.extensions["tribune.sessionmaker"]()
    stored = session.get(User, db_fan.id)
    stored.password_login = False
    session.commit()
    session.close()

    profile = page_text(client.get("/profiel"))
    assert "je e-mailadres beheer je daar" in profile
    assert 'action="/profiel/e-mail"' not in profile
    refused = ask_change(client, NEW)
    assert refused.status_code == 403
    assert mailbox.deliver() == []
