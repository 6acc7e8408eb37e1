"""Accounts through the real pages: register, log in and out, remember me, change password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Role, User
from tests.conftest import TEST_PASSWORD, get_user, login

LOGIN_FAILED = "Gebruikersnaam of wachtwoord klopt niet."
NEW_PASSWORD = "een heel nieuw wachtwoord"


def reread(db: Session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what requests committed."""
    db.rollback()
    db.expire_all()


def post_login(client: FlaskClient, username: str, password: str, **extra: str) -> Any:
    return client.post("/login", data={"login": username, "password": password, **extra})


def is_logged_in(client: FlaskClient) -> bool:
    """Whether the client's cookies still open the profile page."""
    response = client.get("/profiel")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def set_cookie_header(response: Any, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def user_count(db: Session) -> int:
    reread(db)
    return db.scalar(select(func.count()).select_from(User)) or 0


# ---------------------------------------------------------------- registration


def registration(**fields: str) -> dict[str, str]:
    data = {
        "username": "Maneblusser",
        "email": "maneblusser@example.test",
        "password": TEST_PASSWORD,
        "password_repeat": TEST_PASSWORD,
    }
    data.update(fields)
    return data


def test_register_creates_a_fan_who_then_logs_in(client: FlaskClient, db: Session) -> None:
    response = client.post("/registreren", data=registration())

    # No session yet: an address that already had an account gets this same answer
    # (tests/test_no_enumeration.py), so the answer cannot sign anyone in.
    assert response.status_code == 303
    assert response.headers["Location"] == "/registreren/verstuurd"
    assert not is_logged_in(client)
    user = get_user(db, "Maneblusser")
    assert user.role is Role.FAN
    assert user.email == "maneblusser@example.test"
    assert user.password_hash != TEST_PASSWORD
    assert user.email_verified_at is None
    assert post_login(client, "Maneblusser", TEST_PASSWORD).status_code == 302
    assert is_logged_in(client)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "ab"}, "Een gebruikersnaam heeft 3 tot 32 tekens"),
        ({"username": "met spatie"}, "Een gebruikersnaam heeft 3 tot 32 tekens"),
        ({"username": "_begint_met_streep"}, "Een gebruikersnaam heeft 3 tot 32 tekens"),
        ({"username": "x" * 33}, "Een gebruikersnaam heeft 3 tot 32 tekens"),
        ({"email": "geen-adres"}, "Dat e-mailadres is ongeldig."),
        ({"email": "iemand@voorbeeld"}, "Dat e-mailadres is ongeldig."),
        (
            {"password": "kort", "password_repeat": "kort"},
            "Kies een wachtwoord van minstens 10 tekens.",
        ),
        ({"password_repeat": "iets heel anders"}, "De wachtwoorden zijn niet gelijk."),
    ],
)
def test_invalid_registration_is_refused_and_stores_nothing(
    client: FlaskClient, db: Session, fields: dict[str, str], message: str
) -> None:
    response = client.post("/registreren", data=registration(**fields))

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(db) == 0
    assert not is_logged_in(client)


def test_duplicate_name_in_other_case_is_a_conflict(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    make_user(username="Maneblusser")

    response = client.post(
        "/registreren", data=registration(username="MANEBLUSSER", email="ander@example.test")
    )

    assert response.status_code == 409
    assert "Die gebruikersnaam is al in gebruik." in response.get_data(as_text=True)
    assert user_count(db) == 1


def test_duplicate_email_in_other_case_answers_as_a_fresh_registration(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    make_user(username="Maneblusser")

    response = client.post(
        "/registreren", data=registration(username="Andere_Naam", email="MANEBLUSSER@example.test")
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/registreren/verstuurd"
    assert user_count(db) == 1


def test_registration_shows_every_error_at_once_and_keeps_all_but_the_passwords(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    make_user(username="Maneblusser", email="bezet@example.test")

    # A name in use (only the service knows), a wrong e-mail and a short password: one try.
    response = client.post(
        "/registreren",
        data=registration(email="geen-adres", password="kort", password_repeat="kort"),
    )
    page = response.get_data(as_text=True)

    assert response.status_code == 422
    assert "al in gebruik" in page
    assert "Dat e-mailadres is ongeldig." in page
    assert "Kies een wachtwoord van minstens 10 tekens." in page
    assert 'value="Maneblusser"' in page
    assert 'value="geen-adres"' in page
    assert 'value="kort"' not in page
    assert user_count(db) == 1

    # A service refusal (the name's characters) beside an address in use: the address is not
    # named as taken (no enumeration).
    response = client.post(
        "/registreren", data=registration(username="met spatie", email="BEZET@example.test")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "letters, cijfers, punt, streep of _." in page
    assert "al in gebruik" not in page
    assert TEST_PASSWORD not in page


# ---------------------------------------------------------------- login and logout


@pytest.mark.parametrize("use_email", [False, True])
def test_login_by_username_or_email(
    client: FlaskClient, db: Session, make_user: Callable[..., User], use_email: bool
) -> None:
    user = make_user(username="GeelRood04")

    response = post_login(client, user.email if use_email else "geelrood04", TEST_PASSWORD)

    assert response.status_code == 302
    assert is_logged_in(client)
    assert get_user(db, "GeelRood04").last_login_at is not None


def test_unknown_user_and_wrong_password_look_the_same(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    unknown = post_login(client, "niemand_hier", TEST_PASSWORD)
    wrong = post_login(client, user.username, "niet het wachtwoord")

    assert unknown.status_code == wrong.status_code == 200
    assert LOGIN_FAILED in unknown.get_data(as_text=True)
    assert LOGIN_FAILED in wrong.get_data(as_text=True)
    # Apart from the echoed login name the pages are identical.
    assert unknown.get_data(as_text=True).replace("niemand_hier", "") == wrong.get_data(
        as_text=True
    ).replace(user.username, "")
    assert not is_logged_in(client)


def test_deactivated_account_cannot_log_in(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user(is_active=False)

    response = post_login(client, user.username, TEST_PASSWORD)

    assert response.status_code == 200
    assert LOGIN_FAILED in response.get_data(as_text=True)
    assert not is_logged_in(client)


def test_logout_ends_the_session(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user())
    assert is_logged_in(client)

    response = client.post("/uitloggen")

    assert response.status_code == 302
    assert not is_logged_in(client)


def test_logout_needs_post(client: FlaskClient, make_user: Callable[..., User]) -> None:
    login(client, make_user())

    assert client.get("/uitloggen").status_code == 405
    assert is_logged_in(client)


def test_a_new_secret_key_ends_sessions_and_a_fallback_keeps_them(
    app: Flask, client: FlaskClient, make_user: Callable[..., User]
) -> None:
    """The session cookie's serializer is built once per key set, not once per request."""
    login(client, make_user())
    old_key = app.secret_key
    app.secret_key = "another-secret-key-for-this-test-0123456789"
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert is_logged_in(client)  # the old key still opens the cookie
    app.secret_key = "a-third-secret-key-for-this-test-0123456789"
    app.config["SECRET_KEY_FALLBACKS"] = []
    assert not is_logged_in(client)


def test_session_cookie_is_httponly_and_samesite_lax(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = post_login(client, user.username, TEST_PASSWORD)

    cookie = set_cookie_header(response, "session")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_remember_me_logs_in_a_fresh_session(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = post_login(client, user.username, TEST_PASSWORD, remember="on")

    cookie = set_cookie_header(response, "tribune_remember")
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    client.delete_cookie("session")
    assert client.get_cookie("session") is None
    assert is_logged_in(client)


def test_without_remember_me_dropping_the_session_logs_out(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = post_login(client, user.username, TEST_PASSWORD)

    assert not any(
        h.startswith("tribune_remember=") for h in response.headers.getlist("Set-Cookie")
    )
    client.delete_cookie("session")
    assert not is_logged_in(client)


@pytest.mark.parametrize(
    ("next_url", "expected"),
    [
        ("/profiel", "/profiel"),
        ("/artikels/abc?volgorde=oudste", "/artikels/abc?volgorde=oudste"),
        ("//evil.com", "/"),
        ("https://evil.com", "/"),
        ("http://evil.com/profiel", "/"),
        ("/\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("javascript:alert(1)", "/"),
        ("", "/"),
    ],
)
def test_next_is_followed_only_to_local_paths(
    client: FlaskClient, make_user: Callable[..., User], next_url: str, expected: str
) -> None:
    user = make_user()

    response = post_login(client, user.username, TEST_PASSWORD, next=next_url)

    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_next_from_the_query_string_is_checked_too(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = client.post(
        "/login?next=//evil.com", data={"login": user.username, "password": TEST_PASSWORD}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_protected_page_sends_anonymous_to_login_and_back(
    client: FlaskClient, make_user: Callable[..., User]
) -> None:
    user = make_user()

    response = client.get("/profiel")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    follow = client.post(
        response.headers["Location"], data={"login": user.username, "password": TEST_PASSWORD}
    )
    assert follow.headers["Location"] == "/profiel"


# ---------------------------------------------------------------- password change


def change_password(client: FlaskClient, current: str, new: str) -> Any:
    return client.post("/profiel/wachtwoord", data={"current": current, "new": new})


def test_change_password_replaces_the_old_one_and_ends_other_sessions(
    app: Flask, client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user()
    other_device = app.test_client()
    remembered_device = app.test_client()
    login(other_device, user)
    login(remembered_device, user, remember=True)
    login(client, user)

    response = change_password(client, TEST_PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303
    assert get_user(db, user.username).session_version == 2
    # This session stays; the earlier ones (including remember-me) end.
    assert is_logged_in(client)
    assert not is_logged_in(other_device)
    remembered_device.delete_cookie("session")
    assert not is_logged_in(remembered_device)

    fresh = app.test_client()
    assert post_login(fresh, user.username, TEST_PASSWORD).status_code == 200
    assert post_login(fresh, user.username, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("niet mijn wachtwoord", NEW_PASSWORD, "Je huidige wachtwoord klopt niet."),
        (TEST_PASSWORD, "kort", "Kies een wachtwoord van minstens 10 tekens."),
    ],
)
def test_change_password_refusals_keep_the_old_password(
    client: FlaskClient,
    db: Session,
    make_user: Callable[..., User],
    current: str,
    new: str,
    message: str,
) -> None:
    user = make_user()
    login(client, user)
    old_hash = user.password_hash

    response = change_password(client, current, new)

    # The profile comes back with the refusal beside the field it concerns.
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert NEW_PASSWORD not in page and "kort" not in page.split("Wachtwoord wijzigen")[1][:2000]
    stored = get_user(db, user.username)
    assert stored.password_hash == old_hash
    assert stored.session_version == 1
