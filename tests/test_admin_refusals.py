"""Admin and editor forms never end on a bare error page: a refused role change, account change
or match-day window comes back as the same page with the reason beside the field and what was
typed or chosen kept. JSON clients of the same routes keep the one error shape."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import MatchDayWindow, ModerationAction, Role, User
from tests.conftest import client_for
from tests.factories import error_code, fresh

JSON = {"Accept": "application/json"}
WINDOW = {
    "article_id": "",
    "mode": "slow",
    "slow_seconds": "90",
    "starts_at": "2031-05-18T20:00",
    "ends_at": "2031-05-18T23:00",
    "label": "Bekerfinale KVM–Club",
}


def error_beside(page: str, field_id: str) -> str:
    """The error text shown beside a field (its -error element), which the input names."""
    match = re.search(rf'<p class="form-error" id="{field_id}-error"[^>]*>([^<]*)</p>', page)
    assert match, f"no error beside #{field_id}"
    assert re.search(
        rf'id="{field_id}"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*id="{field_id}"', page
    )
    return match.group(1)


def value_of(page: str, field_id: str) -> str:
    tag = re.search(rf'<input[^>]*id="{field_id}"[^>]*>', page)
    assert tag, field_id
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else ""


def selected(page: str, field_id: str) -> str:
    select_html = re.search(rf'<select[^>]*id="{field_id}".*?</select>', page, re.S)
    assert select_html, field_id
    chosen = re.search(
        r'<option selected value="(\w+)"|<option value="(\w+)" selected', select_html.group(0)
    )
    assert chosen, select_html.group(0)
    return chosen.group(1) or chosen.group(2)


def test_changing_your_own_role_comes_back_on_the_list_beside_your_role(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, username="Beheerder")
    make_user(Role.FAN, username="Beheerderfan")
    client = client_for(app, admin)

    response = client.post(
        f"/beheer/gebruikers/{admin.id}/rol", data={"role": "fan", "back": "/beheer/?q=beheer"}
    )

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "<h1>Gebruikers</h1>" in page  # the list, not an error page
    assert "Dat lukte niet" not in page
    assert error_beside(page, f"role-{admin.id}") == "Je kan je eigen rol niet wijzigen."
    assert selected(page, f"role-{admin.id}") == "fan"  # the choice is kept
    assert 'value="beheer"' in page and "Beheerderfan" in page  # the same search
    fresh(db)
    assert db.get(User, admin.id).role is Role.ADMIN  # type: ignore[union-attr]
    assert db.scalars(select(ModerationAction)).all() == []


def test_deactivating_yourself_comes_back_on_your_row(
    app: Flask, db: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, username="Beheerder")
    client = client_for(app, admin)

    response = client.post(f"/beheer/gebruikers/{admin.id}/status", data={"active": "0"})

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "<h1>Gebruikers</h1>" in page
    row = re.search(r"<tr>\s*<td>Beheerder</td>.*?</tr>", page, re.S)
    assert row and "Je kan je eigen account niet deactiveren." in row.group(0)
    fresh(db)
    assert db.get(User, admin.id).is_active is True  # type: ignore[union-attr]


def test_json_clients_still_get_the_error_shape(app: Flask, make_user: Callable[..., User]) -> None:
    admin = make_user(Role.ADMIN)
    client = client_for(app, admin)

    response = client.post(f"/beheer/gebruikers/{admin.id}/rol", data={"role": "fan"}, headers=JSON)

    assert response.status_code == 409
    assert error_code(response) == "own_account"


@pytest.mark.parametrize(
    ("role", "changes", "field_id", "status", "message"),
    [
        (Role.ADMIN, {"ends_at": "2031-05-18T19:00"}, "md-end", 422, "Het einde moet na het begin"),
        (Role.ADMIN, {"article_id": "bestaat-niet"}, "md-article", 404, ""),
        (Role.EDITOR, {}, "md-article", 403, "Enkel een beheerder"),
        (Role.ADMIN, {"starts_at": "18/05/2031 20u"}, "md-start", 422, ""),
    ],
    ids=["end-before-start", "unknown-article", "editor-site-wide", "malformed-time"],
)
def test_a_bad_match_day_window_comes_back_beside_its_field_with_the_input(
    app: Flask,
    db: Session,
    make_user: Callable[..., User],
    role: Role,
    changes: dict[str, str],
    field_id: str,
    status: int,
    message: str,
) -> None:
    client = client_for(app, make_user(role))
    typed = {**WINDOW, **changes}

    response = client.post("/beheer/wedstrijddag", data=typed)

    assert response.status_code == status
    page = response.get_data(as_text=True)
    assert "<h1>Wedstrijddagmodus</h1>" in page
    assert "Dat lukte niet" not in page
    assert message in error_beside(page, field_id)
    assert value_of(page, "md-label") == "Bekerfinale KVM–Club"
    assert value_of(page, "md-slow") == "90"
    assert value_of(page, "md-article") == typed["article_id"]
    assert selected(page, "md-mode") == "slow"
    fresh(db)
    assert db.scalars(select(MatchDayWindow)).all() == []


def test_a_match_day_refusal_for_json_clients_keeps_the_error_shape(
    app: Flask, make_user: Callable[..., User]
) -> None:
    client = client_for(app, make_user(Role.EDITOR))

    site_wide = client.post("/beheer/wedstrijddag", data=WINDOW, headers=JSON)
    unknown = client.post(
        "/beheer/wedstrijddag", data={**WINDOW, "article_id": "bestaat-niet"}, headers=JSON
    )

    assert (site_wide.status_code, error_code(site_wide)) == (403, "forbidden")
    assert (unknown.status_code, error_code(unknown)) == (404, "article_not_found")
