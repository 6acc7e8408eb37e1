"""/beheer/: admins find users, change roles and deactivate accounts, all audited."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import ModerationAction, Role, User
from tests.conftest import TEST_PASSWORD, login


def reread(db: Session) -> None:
    """End the test session's read snapshot and forget loaded rows: see what requests committed."""
    db.rollback()
    db.expire_all()


@pytest.fixture
def admin(client: FlaskClient, make_user: Callable[..., User]) -> User:
    user = make_user(Role.ADMIN, username="Beheerder")
    login(client, user)
    return user


def listed_names(client: FlaskClient, query: str) -> set[str]:
    response = client.get("/beheer/" + query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    return {name for name in ALL_NAMES if f"<td>{name}</td>" in page}


ALL_NAMES = ("Beheerder", "Maneblusser", "ManeFan", "GeelRood04", "Sinjoor_Jef")


@pytest.fixture
def members(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "Maneblusser": make_user(Role.FAN, username="Maneblusser"),
        "ManeFan": make_user(Role.MODERATOR, username="ManeFan"),
        "GeelRood04": make_user(Role.MODERATOR, username="GeelRood04"),
        "Sinjoor_Jef": make_user(Role.EDITOR, username="Sinjoor_Jef"),
    }


@pytest.mark.usefixtures("admin", "members")
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", set(ALL_NAMES)),
        ("?q=mane", {"Maneblusser", "ManeFan"}),
        ("?q=MANE", {"Maneblusser", "ManeFan"}),
        ("?q=rood", {"GeelRood04"}),
        ("?q=sinjoor_jef@example", {"Sinjoor_Jef"}),
        ("?q=%25", set()),
        ("?rol=moderator", {"ManeFan", "GeelRood04"}),
        ("?rol=admin", {"Beheerder"}),
        ("?q=mane&rol=moderator", {"ManeFan"}),
        ("?q=niemand", set()),
        ("?rol=onzin", set(ALL_NAMES)),
    ],
)
def test_search_and_filter(client: FlaskClient, query: str, expected: set[str]) -> None:
    assert listed_names(client, query) == expected


@pytest.mark.usefixtures("members")
def test_list_shows_the_count(client: FlaskClient, admin: User) -> None:
    page = client.get("/beheer/?rol=moderator").get_data(as_text=True)

    assert "2 gebruikers" in page


def test_change_role_is_audited(
    client: FlaskClient, db: Session, admin: User, members: dict[str, User]
) -> None:
    fan = members["Maneblusser"]

    response = client.post(
        f"/beheer/gebruikers/{fan.id}/rol", data={"role": "moderator", "back": "/beheer/?q=mane"}
    )

    assert response.status_code == 303
    assert response.headers["Location"] == "/beheer/?q=mane"
    reread(db)
    assert db.get(User, fan.id).role is Role.MODERATOR  # type: ignore[union-attr]
    action = db.scalars(select(ModerationAction).where(ModerationAction.action == "set_role")).one()
    assert (action.actor_id, action.target_type, action.target_id) == (
        admin.id,
        "user",
        str(fan.id),
    )
    assert (action.from_state, action.to_state) == ("fan", "moderator")
    assert "Maneblusser is nu moderator." in client.get("/beheer/").get_data(as_text=True)


def test_setting_the_same_role_writes_no_audit_row(
    client: FlaskClient, db: Session, admin: User, members: dict[str, User]
) -> None:
    response = client.post(
        f"/beheer/gebruikers/{members['Maneblusser'].id}/rol", data={"role": "fan"}
    )

    assert response.status_code == 303
    assert db.scalars(select(ModerationAction)).all() == []


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/beheer/", "/profiel"])
def test_back_link_stays_in_the_admin_area(
    client: FlaskClient, admin: User, members: dict[str, User], back: str
) -> None:
    response = client.post(
        f"/beheer/gebruikers/{members['Maneblusser'].id}/rol",
        data={"role": "moderator", "back": back},
    )

    assert response.headers["Location"] == "/beheer/"


def test_invalid_role_is_refused(
    client: FlaskClient, db: Session, admin: User, members: dict[str, User]
) -> None:
    fan = members["Maneblusser"]

    response = client.post(f"/beheer/gebruikers/{fan.id}/rol", data={"role": "koning"})

    assert response.status_code == 422
    assert "Kies een geldige rol." in response.get_data(as_text=True)
    reread(db)
    assert db.get(User, fan.id).role is Role.FAN  # type: ignore[union-attr]


def test_unknown_user_is_404(client: FlaskClient, admin: User) -> None:
    response = client.post("/beheer/gebruikers/999999/rol", data={"role": "fan"})

    assert response.status_code == 404


def test_admin_cannot_change_own_role(client: FlaskClient, db: Session, admin: User) -> None:
    response = client.post(f"/beheer/gebruikers/{admin.id}/rol", data={"role": "fan"})

    assert response.status_code == 409
    assert "Je kan je eigen rol niet wijzigen." in response.get_data(as_text=True)
    reread(db)
    assert db.get(User, admin.id).role is Role.ADMIN  # type: ignore[union-attr]
    assert db.scalars(select(ModerationAction)).all() == []


def test_admin_cannot_deactivate_themselves(client: FlaskClient, db: Session, admin: User) -> None:
    response = client.post(f"/beheer/gebruikers/{admin.id}/status", data={"active": "0"})

    assert response.status_code == 409
    reread(db)
    assert db.get(User, admin.id).is_active is True  # type: ignore[union-attr]


def test_deactivate_ends_sessions_and_logins_and_is_audited(
    app: Flask, client: FlaskClient, db: Session, admin: User, members: dict[str, User]
) -> None:
    fan = members["Maneblusser"]
    fan_client = app.test_client()
    login(fan_client, fan)
    assert fan_client.get("/profiel").status_code == 200

    response = client.post(f"/beheer/gebruikers/{fan.id}/status", data={"active": "0"})

    assert response.status_code == 303
    assert fan_client.get("/profiel").status_code == 302
    relogin = app.test_client().post(
        "/login", data={"login": fan.username, "password": TEST_PASSWORD}
    )
    assert relogin.status_code == 200
    assert "Gebruikersnaam of wachtwoord klopt niet." in relogin.get_data(as_text=True)
    reread(db)
    assert db.get(User, fan.id).is_active is False  # type: ignore[union-attr]
    action = db.scalars(select(ModerationAction)).one()
    assert (action.action, action.from_state, action.to_state) == (
        "deactivate",
        "active",
        "inactive",
    )
    assert action.actor_id == admin.id


def test_reactivated_user_can_log_in_again(
    app: Flask, client: FlaskClient, db: Session, admin: User, members: dict[str, User]
) -> None:
    fan = members["Maneblusser"]
    client.post(f"/beheer/gebruikers/{fan.id}/status", data={"active": "0"})

    response = client.post(f"/beheer/gebruikers/{fan.id}/status", data={"active": "1"})

    assert response.status_code == 303
    relogin = app.test_client().post(
        "/login", data={"login": fan.username, "password": TEST_PASSWORD}
    )
    assert relogin.status_code == 302
    reread(db)
    actions = db.scalars(select(ModerationAction.action).order_by(ModerationAction.id)).all()
    assert actions == ["deactivate", "activate"]


def test_role_change_ends_the_users_sessions_and_the_new_role_holds_at_next_login(
    app: Flask, client: FlaskClient, admin: User, members: dict[str, User]
) -> None:
    fan = members["Maneblusser"]
    fan_client = app.test_client()
    login(fan_client, fan)
    assert fan_client.get("/beheer/").status_code == 403

    client.post(f"/beheer/gebruikers/{fan.id}/rol", data={"role": "admin"})

    assert fan_client.get("/beheer/").status_code == 302  # signed out: to the login page
    login(fan_client, fan)
    assert fan_client.get("/beheer/").status_code == 200
