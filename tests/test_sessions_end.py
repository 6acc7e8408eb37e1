"""Sessions end server-side: a copied session or remember-me cookie stops working after logout,
"overal afmelden", a role change, a permanent ban and deactivation (issue 15, point 2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import Role, User
from tests.conftest import get_user, login

JSON = {"Accept": "application/json"}


def is_logged_in(client: FlaskClient) -> bool:
    response = client.get("/profiel")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def copy_of(app: Flask, client: FlaskClient, name: str) -> FlaskClient:
    """Another browser holding only a copy of `client`'s cookie `name`."""
    cookie = client.get_cookie(name)
    assert cookie is not None
    other = app.test_client()
    other.set_cookie(name, cookie.value)
    return other


def signed_in(app: Flask, user: User) -> tuple[FlaskClient, FlaskClient, FlaskClient]:
    """A remembered browser and copies of its session cookie and of its remember-me cookie."""
    browser = app.test_client()
    login(browser, user, remember=True)
    session_copy = copy_of(app, browser, "session")
    remember_copy = copy_of(app, browser, "tribune_remember")
    assert is_logged_in(session_copy) and is_logged_in(remember_copy)
    return browser, session_copy, remember_copy


def test_logout_ends_copies_of_the_session_and_remember_cookies(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    browser, session_copy, remember_copy = signed_in(app, user)

    response = browser.post("/uitloggen")

    assert response.status_code == 302
    assert get_user(db, user.username).session_version == 2
    assert not is_logged_in(browser)
    assert not is_logged_in(session_copy)
    assert not is_logged_in(remember_copy)


def test_logout_everywhere_ends_every_session_this_one_included(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    browser, session_copy, remember_copy = signed_in(app, user)
    other_device = app.test_client()
    login(other_device, user)
    assert "Overal afmelden" in browser.get("/profiel").get_data(as_text=True)

    response = browser.post("/profiel/overal-afmelden")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    for client in (browser, session_copy, remember_copy, other_device):
        assert not is_logged_in(client)
    fresh = app.test_client()
    login(fresh, user)  # logging in again works
    assert is_logged_in(fresh)


def test_logout_everywhere_needs_a_login(client: FlaskClient) -> None:
    response = client.post("/profiel/overal-afmelden")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_a_role_change_ends_the_users_sessions(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    moderator = make_user(Role.MODERATOR)
    _, session_copy, remember_copy = signed_in(app, moderator)
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN))

    response = admin.post(f"/beheer/gebruikers/{moderator.id}/rol", data={"role": "fan"})

    assert response.status_code in (302, 303)
    assert get_user(db, moderator.username).role is Role.FAN
    assert not is_logged_in(session_copy)
    assert not is_logged_in(remember_copy)


def test_deactivation_ends_the_users_sessions(app: Flask, make_user: Callable[..., User]) -> None:
    fan = make_user()
    _, session_copy, remember_copy = signed_in(app, fan)
    admin = app.test_client()
    login(admin, make_user(Role.ADMIN))

    response = admin.post(f"/beheer/gebruikers/{fan.id}/status", data={"active": "0"})

    assert response.status_code in (302, 303)
    assert not is_logged_in(session_copy)
    assert not is_logged_in(remember_copy)


@pytest.mark.parametrize(("duration", "ends"), [("permanent", True), ("24h", False)])
def test_a_ban_ends_the_users_sessions_and_a_suspension_does_not(
    app: Flask, make_user: Callable[..., User], duration: str, ends: bool
) -> None:
    fan = make_user()
    _, session_copy, remember_copy = signed_in(app, fan)
    moderator = app.test_client()
    login(moderator, make_user(Role.MODERATOR))

    response = moderator.post(
        f"/moderatie/gebruikers/{fan.id}/schorsen",
        data={"duration": duration, "reason": "spam"},
        headers=JSON,
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert is_logged_in(session_copy) is not ends
    assert is_logged_in(remember_copy) is not ends


def test_new_users_start_at_session_version_one(
    db: Session, make_user: Callable[..., User]
) -> None:
    # bench/comments_bench.py mints session cookies with "<id>:1".
    user = make_user()

    assert get_user(db, user.username).get_id() == f"{user.id}:1"
