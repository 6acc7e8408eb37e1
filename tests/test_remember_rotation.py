"""Remember-me cookies rotate on use: restoring a session issues a new cookie and the old one
stops working, per browser (issue 15, point 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import RememberToken, User, utcnow
from tests.conftest import TEST_PASSWORD, login

COOKIE = "tribune_remember"


def remembered_browser(app: Flask, user: User) -> FlaskClient:
    browser = app.test_client()
    login(browser, user, remember=True)
    assert browser.get_cookie(COOKIE) is not None
    return browser


def remember_value(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def holding_only(app: Flask, value: str) -> FlaskClient:
    """A browser with nothing but this remember-me cookie."""
    other = app.test_client()
    other.set_cookie(COOKIE, value)
    return other


def restores(client: FlaskClient) -> bool:
    """Whether the client, without its session cookie, is signed in again by remember-me."""
    client.delete_cookie("session")
    response = client.get("/profiel")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_used_remember_cookie_is_replaced_and_the_old_one_stops_working(
    app: Flask, make_user: Callable[..., User]
) -> None:
    browser = remembered_browser(app, make_user())
    copied_before_use = remember_value(browser)

    assert restores(browser)
    rotated = remember_value(browser)

    assert rotated != copied_before_use
    thief = holding_only(app, copied_before_use)
    assert thief.get("/profiel").status_code == 302  # the copy from before the use is dead
    assert restores(browser)  # the rotated cookie works (and rotates again)
    assert remember_value(browser) != rotated


def test_a_copy_works_once_then_neither_it_nor_the_original_is_reused(
    app: Flask, make_user: Callable[..., User]
) -> None:
    browser = remembered_browser(app, make_user())
    value = remember_value(browser)
    first, second = holding_only(app, value), holding_only(app, value)

    assert first.get("/profiel").status_code == 200
    assert second.get("/profiel").status_code == 302
    assert not restores(browser)  # its cookie was the one used by the copy


def test_each_browser_has_its_own_remember_token(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    laptop, phone = remembered_browser(app, user), remembered_browser(app, user)

    assert restores(laptop)
    assert restores(phone)  # the laptop's rotation did not end the phone's cookie
    assert restores(laptop)
    count = select(func.count()).select_from(RememberToken).where(RememberToken.user_id == user.id)
    assert db.scalar(count) == 2


def test_an_expired_remember_token_does_not_restore(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    browser = remembered_browser(app, user)
    db.execute(
        update(RememberToken)
        .where(RememberToken.user_id == user.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    db.commit()

    assert not restores(browser)


def test_a_password_change_keeps_this_browser_remembered_and_ends_the_others(
    app: Flask, make_user: Callable[..., User]
) -> None:
    user = make_user()
    other = remembered_browser(app, user)
    browser = remembered_browser(app, user)

    response = browser.post(
        "/profiel/wachtwoord", data={"current": TEST_PASSWORD, "new": "een heel nieuw wachtwoord"}
    )

    assert response.status_code == 303
    assert restores(browser)
    assert not restores(other)


def test_a_tampered_or_foreign_cookie_is_ignored(
    app: Flask, make_user: Callable[..., User]
) -> None:
    browser = remembered_browser(app, make_user())
    token_id, _, secret = remember_value(browser).partition(".")

    for value in (f"{token_id}.{secret[:-2]}xx", f"{int(token_id) + 1}.{secret}", "x" * 500, "."):
        assert holding_only(app, value).get("/profiel").status_code == 302, value
    assert restores(browser)


def test_logging_in_without_remember_me_sets_no_remember_cookie(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    browser = app.test_client()
    login(browser, user)

    assert browser.get_cookie(COOKIE) is None
    count = select(func.count()).select_from(RememberToken)
    assert db.scalar(count) == 0


def cleared(response: Any) -> bool:
    return any(h.startswith(f"{COOKIE}=;") for h in response.headers.getlist("Set-Cookie"))


def test_a_dead_cookie_is_cleared_and_one_just_rotated_is_left_to_the_winner(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    browser = remembered_browser(app, user)
    before = remember_value(browser)
    assert restores(browser)

    # A parallel request of the same browser that lost the rotation: refused, and its answer
    # does not erase the new cookie the winner's answer set.
    loser = holding_only(app, before).get("/profiel")
    assert loser.status_code == 302 and not cleared(loser)

    db.execute(
        update(RememberToken)
        .where(RememberToken.user_id == user.id)
        .values(used_at=utcnow() - timedelta(minutes=5))
    )
    db.commit()
    late = holding_only(app, before).get("/profiel")
    assert late.status_code == 302 and cleared(late)
    unknown = holding_only(app, "999999.abc").get("/profiel")
    assert unknown.status_code == 302 and cleared(unknown)


def test_a_made_up_cookie_cannot_end_another_browsers_token(
    app: Flask, make_user: Callable[..., User]
) -> None:
    victim = remembered_browser(app, make_user())
    token_id = remember_value(victim).partition(".")[0]
    attacker = holding_only(app, f"{token_id}.made-up")

    attacker.post("/uitloggen")
    login(attacker, make_user(), remember=True)  # logging in drops the browser's old cookie too

    assert restores(victim)


def test_logging_out_deletes_this_browsers_token(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    browser = remembered_browser(app, make_user())

    response = browser.post("/uitloggen")

    assert cleared(response)
    assert db.scalar(select(func.count()).select_from(RememberToken)) == 0
