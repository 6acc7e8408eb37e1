"""A common, personal or trivial password is refused in Chromium with the Dutch reason beside the
password field, with JavaScript and without (issue 15, point 4)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import User
from tests.browser.test_form_refusals_browser import assert_error_beside, new_page, submit
from tests.factories import fresh

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("Wachtwoord2024", "lijst van veelgebruikte wachtwoorden"),
        ("1234567890", "te voorspelbaar"),
        ("maneblusser-kvm", "gebruikersnaam"),
    ],
)
def test_a_weak_password_is_refused_with_its_reason_beside_the_field(
    db: Session, chromium: Any, base_url: str, javascript: bool, password: str, reason: str
) -> None:
    page = new_page(chromium, javascript)
    page.goto(f"{base_url}/registreren")
    page.fill("#username", "Maneblusser")
    page.fill("#email", "fan@example.test")
    page.fill("#password", password)
    page.fill("#password_repeat", password)
    submit(page, "form[action^='/registreren'] button[type=submit]")

    assert page.input_value("#username") == "Maneblusser"
    assert_error_beside(page, "password", reason)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(User)) == 0
    page.context.close()
