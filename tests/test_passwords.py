"""Password rules (issue 15, point 4): common, personal and trivial passwords are refused with a
Dutch reason, wherever a password is set (registration, /profiel, the CLI)."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.passwords import common_passwords, password_problems
from demo.seed import demo_password
from models import User
from tests.conftest import TEST_PASSWORD, get_user, login

NAME, EMAIL = "Maneblusser", "zebra.fan@example.test"


def codes(password: str, username: str = NAME, email: str = EMAIL) -> list[str]:
    return [problem.code for problem in password_problems(password, username, email)]


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("aaaaaaaaaa", "password_trivial"),
        ("1234567890", "password_trivial"),
        ("0987654321", "password_trivial"),
        ("7890123456", "password_trivial"),
        ("abcdefghijk", "password_trivial"),
        ("AZERTYUIOP", "password_trivial"),
        ("1212121212", "password_trivial"),
        ("wachtwoord", "password_common"),
        ("Wachtwoord2024!", "password_common"),
        ("welkom123456", "password_common"),
        ("voetbal2026", "password_common"),
        ("Anderlecht1908", "password_common"),
        ("clubbrugge1891", "password_common"),
        ("password123", "password_common"),
        ("iloveyou12", "password_common"),
        ("qwerty123456", "password_common"),
        ("maneblusser99", "password_personal"),
        ("ikBenMANEBLUSSER", "password_personal"),
        ("zebra.fan-2026", "password_personal"),
    ],
)
def test_weak_passwords_are_refused_with_their_reason(password: str, code: str) -> None:
    assert code in codes(password)


@pytest.mark.parametrize(
    "password",
    [TEST_PASSWORD, "een heel nieuw wachtwoord", "Paars-wit tot de dood 1908", "kQ8#vT2!mZr"],
)
def test_ordinary_passwords_pass(password: str) -> None:
    assert codes(password) == []


def test_the_shipped_lists_hold_english_and_dutch_passwords() -> None:
    words = common_passwords()
    assert len(words) > 19_000
    assert {"123456", "password", "qwerty", "wachtwoord", "welkom", "voetbal"} <= words


def test_a_short_email_local_part_is_not_looked_for() -> None:
    # "jo@…" would otherwise refuse every password with "jo" in it.
    assert codes("majorettes op het veld", "Jozef", "jo@example.test") == []


def test_demo_passwords_keep_the_rules() -> None:
    for name in ("Lotte", "Redactie", "Moderator"):
        password = demo_password(name, f"{name.lower()}@demo.tribune.test")
        assert codes(password, name, f"{name.lower()}@demo.tribune.test") == []


def registration(password: str, **fields: str) -> dict[str, str]:
    return {
        "username": NAME,
        "email": EMAIL,
        "password": password,
        "password_repeat": password,
        **fields,
    }


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("wachtwoord", "lijst van veelgebruikte wachtwoorden"),
        ("1234567890", "te voorspelbaar"),
        ("aaaaaaaaaa", "te voorspelbaar"),
        ("Maneblusser!!", "gebruikersnaam of (het deel voor de @ van) je e-mailadres"),
    ],
)
def test_registration_refuses_a_weak_password_beside_the_field(
    client: FlaskClient, db: Session, password: str, message: str
) -> None:
    response = client.post("/registreren", data=registration(password))
    page = html.unescape(response.get_data(as_text=True))

    assert response.status_code == 422
    assert message in page
    assert 'aria-invalid="true"' in page
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_registration_lists_a_weak_password_with_the_other_problems(client: FlaskClient) -> None:
    response = client.post("/registreren", data=registration("wachtwoord", email="geen-adres"))
    page = html.unescape(response.get_data(as_text=True))

    assert response.status_code == 422
    assert "Dat e-mailadres is ongeldig." in page
    assert "lijst van veelgebruikte wachtwoorden" in page


def test_the_profile_refuses_a_weak_new_password(
    client: FlaskClient, db: Session, make_user: Callable[..., User]
) -> None:
    user = make_user(username="geelrood")
    login(client, user)
    before = get_user(db, user.username).password_hash

    for weak, message in (
        ("voetbal12345", "lijst van veelgebruikte wachtwoorden"),
        ("geelrood-2026", "gebruikersnaam"),
        ("0000000000", "te voorspelbaar"),
    ):
        response = client.post("/profiel/wachtwoord", data={"current": TEST_PASSWORD, "new": weak})
        assert response.status_code == 422, weak
        assert message in html.unescape(response.get_data(as_text=True))

    db.expire_all()
    assert get_user(db, user.username).password_hash == before


def test_the_cli_refuses_a_weak_password(
    runner: FlaskCliRunner, make_user: Callable[..., User]
) -> None:
    user = make_user(username="Supporter")

    for weak in ("1234567890", "wachtwoord1", "supporter-2026"):
        result = runner.invoke(
            args=["tribune", "set-password", user.username, "--password-stdin"], input=weak + "\n"
        )
        assert result.exit_code == 1, (weak, result.output)
