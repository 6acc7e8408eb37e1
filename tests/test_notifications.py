"""Notifications to fans: the settings page, the unsubscribe links, and every kind of mail
through the outbox to a real SMTP server (aiosmtpd), with its opt-out and its link."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from errors import Invalid
from models import (
    Delivery,
    NotificationKind,
    NotificationSettings,
    Role,
    SsoIdentity,
    User,
    utcnow,
)
from notifications import preferences
from tests.conftest import client_for
from tests.factories import fresh

pytestmark = pytest.mark.usefixtures("own_redis_keys")


def verified(make_user: Callable[..., User], role: Role = Role.FAN, **fields: Any) -> User:
    """A user whose address is confirmed (account care's users.email_verified_at)."""
    return make_user(role, email_verified_at=utcnow(), **fields)


def sso_client(app: Flask, db: Session, user: User, email: str | None) -> FlaskClient:
    """A client signed in as an SSO account (its identity carrying `email`)."""
    user.password_login = False
    db.add(SsoIdentity(issuer="site", subject=f"s{user.id}", user_id=user.id, name="x", email=email))
    db.commit()
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.get_id()
        cookie["_fresh"] = True
    return client


def choices(db: Session, user: User) -> dict[NotificationKind, Delivery]:
    fresh(db)
    return preferences.current_choices(db, db.get_one(User, user.id))


def checked(page: str, name: str) -> str:
    """The value of the checked radio button of one group."""
    found = re.findall(rf'<input checked id="{name}-\d+" name="{name}"[^>]* value="(\w+)"', page)
    assert len(found) == 1, f"{name}: {found}"
    return str(found[0])


# ---------------------------------------------------------------- the settings page


def test_settings_page_shows_the_defaults_and_staff_get_the_queue_alarm(
    app: Flask, make_user: Callable[..., User]
) -> None:
    fan_page = client_for(app, verified(make_user)).get("/profiel/meldingen")
    mod_page = client_for(app, verified(make_user, Role.MODERATOR)).get("/profiel/meldingen")
    editor_page = client_for(app, verified(make_user, Role.EDITOR)).get("/profiel/meldingen")

    assert fan_page.status_code == 200
    page = fan_page.get_data(as_text=True)
    assert "<legend>Een antwoord op mijn reactie</legend>" in page
    assert {kind: checked(page, kind) for kind in ("reply", "decision", "report")} == {
        "reply": "immediate",
        "decision": "immediate",
        "report": "daily",
    }
    assert "Wachtrij-alarm" not in page
    assert "Wachtrij-alarm" in mod_page.get_data(as_text=True)
    assert checked(mod_page.get_data(as_text=True), "queue_alert") == "never"
    assert "Wachtrij-alarm" not in editor_page.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client: FlaskClient) -> None:
    response = client.get("/profiel/meldingen")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_choices_are_saved_and_shown_again(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    client = client_for(app, fan)
    form = {
        "reply": "daily",
        "decision": "never",
        "report": "immediate",
        "appeal": "immediate",
        "suspension": "daily",
    }

    response = client.post("/profiel/meldingen", data=form)

    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Je keuzes voor meldingen zijn bewaard." in page
    assert checked(page, "reply") == "daily" and checked(page, "decision") == "never"
    assert choices(db, fan)[NotificationKind.SUSPENSION] is Delivery.DAILY


def test_a_bad_choice_is_refused_beside_its_field_and_the_others_kept(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    form = {
        "reply": "sometimes",
        "decision": "never",
        "report": "immediate",
        "appeal": "immediate",
        "suspension": "daily",
    }

    response = client_for(app, fan).post("/profiel/meldingen", data=form)

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert '<p class="form-error" id="reply-error">' in page
    assert checked(page, "decision") == "never"
    assert db.scalar(select(func.count()).select_from(NotificationSettings)) == 0


def test_the_service_refuses_a_kind_or_choice_the_account_cannot_have(
    db: Session, make_user: Callable[..., User]
) -> None:
    fan, moderator = make_user(), make_user(Role.MODERATOR)

    with pytest.raises(Invalid) as not_staff:
        preferences.save_choices(db, fan, {NotificationKind.QUEUE_ALERT: Delivery.IMMEDIATE})
    with pytest.raises(Invalid) as no_digest:
        preferences.save_choices(db, moderator, {NotificationKind.QUEUE_ALERT: Delivery.DAILY})

    assert not_staff.value.code == no_digest.value.code == "invalid_notification_choice"


def test_an_sso_account_without_an_address_is_told_so(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    without = sso_client(app, db, make_user(), None).get("/profiel/meldingen")
    with_address = sso_client(app, db, make_user(), "lezer@krant.test").get("/profiel/meldingen")

    assert "gaf ons geen e-mailadres door" in without.get_data(as_text=True)
    assert "We sturen meldingen naar <strong>lezer@krant.test</strong>" in (
        with_address.get_data(as_text=True)
    )


@pytest.mark.skipif(
    not hasattr(User, "email_verified_at"), reason="account care (migration 0012) not merged"
)
def test_an_unconfirmed_address_gets_nothing_and_the_page_says_so(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = make_user(email_verified_at=None)

    page = client_for(app, fan).get("/profiel/meldingen").get_data(as_text=True)

    assert "Je e-mailadres is nog niet bevestigd" in page
    assert preferences.notification_address(db, fan) is None
    assert preferences.notification_address(db, verified(make_user)) is not None


# ---------------------------------------------------------------- unsubscribe links


@pytest.fixture
def csrf_on(app_settings: dict[str, Any]) -> None:
    """The real CSRF check (the one-click POST must pass without a token)."""
    app_settings["WTF_CSRF_ENABLED"] = True


@pytest.mark.usefixtures("csrf_on")
def test_unsubscribe_get_confirms_and_post_is_one_click_without_login_or_csrf(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    path = preferences.unsubscribe_path(db, fan.id, NotificationKind.REPLY)
    db.commit()
    client = app.test_client()

    confirm = client.get(path)

    assert confirm.status_code == 200
    assert "Een antwoord op mijn reactie" in confirm.get_data(as_text=True)
    assert choices(db, fan)[NotificationKind.REPLY] is Delivery.IMMEDIATE  # GET changes nothing

    done = client.post(path, data={"List-Unsubscribe": "One-Click"})

    assert done.status_code == 200
    assert "Je krijgt geen mail meer over" in done.get_data(as_text=True)
    after = choices(db, fan)
    assert after[NotificationKind.REPLY] is Delivery.NEVER
    assert after[NotificationKind.DECISION] is Delivery.IMMEDIATE  # only the link's kind


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_tampered_or_foreign_token_is_404(
    app: Flask, db: Session, make_user: Callable[..., User], method: str
) -> None:
    fan, other = verified(make_user), verified(make_user)
    token = preferences.unsubscribe_token(db, fan.id, NotificationKind.REPLY)
    preferences.unsubscribe_token(db, other.id, NotificationKind.REPLY)
    db.commit()
    user_id, kind, signature = token.split(".")
    forged = [
        f"{user_id}.{kind}.{'0' * len(signature)}",
        f"{other.id}.{kind}.{signature}",  # another account's id with this one's signature
        f"{user_id}.decision.{signature}",  # another kind
        f"{user_id}.nonsense.{signature}",
        "zomaar",
    ]
    client = app.test_client()

    for bad in forged:
        response = getattr(client, method)(
            f"/meldingen/afmelden/{bad}", headers={"Accept": "application/json"}
        )
        assert response.status_code == 404, bad
        assert response.get_json()["error"]["code"] == "unsubscribe_link_invalid"
    assert choices(db, fan)[NotificationKind.REPLY] is Delivery.IMMEDIATE


def test_the_digest_link_turns_off_every_kind_in_the_digest(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    fan = verified(make_user)
    preferences.save_choices(db, fan, {NotificationKind.REPLY: Delivery.DAILY})
    path = preferences.unsubscribe_path(db, fan.id, preferences.DIGEST)
    db.commit()

    response = app.test_client().post(path)

    assert response.status_code == 200
    after = choices(db, fan)
    assert after[NotificationKind.REPLY] is after[NotificationKind.REPORT] is Delivery.NEVER
    assert after[NotificationKind.DECISION] is Delivery.IMMEDIATE
