"""Refused forms in Chromium keep what the person typed: a comment refused by the flood limit
and a registration with a password the rules refuse come back filled in, with the reason
beside the field (aria-invalid, aria-describedby). With JavaScript and without."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.services import PASSWORD_MIN
from models import Article, Comment, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import CLEAN_TEXTS, fresh

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

FLOOD_AFTER = 3  # the fourth comment within the flood window is refused (test_context_rules)


def submit(page: Any, selector: str) -> None:
    """Click a submit button and wait for the answer page."""
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(selector)


def assert_error_beside(page: Any, field_id: str, text: str) -> None:
    """The field is marked invalid and described by the error printed right after it."""
    field = page.locator(f"#{field_id}")
    assert field.get_attribute("aria-invalid") == "true"
    assert f"{field_id}-error" in (field.get_attribute("aria-describedby") or "").split()
    error = page.locator(f"#{field_id}-error")
    assert text in error.text_content()
    # Beside the field: the error is the element right after it.
    assert page.locator(f"#{field_id} + #{field_id}-error").count() == 1


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def javascript(request: pytest.FixtureRequest) -> bool:
    return request.param


def new_page(chromium: Any, javascript: bool) -> Any:
    context = chromium.new_context(java_script_enabled=javascript)
    return context.new_page()


def test_a_comment_refused_by_the_flood_limit_keeps_its_text(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    javascript: bool,
) -> None:
    article = make_article("kvm-derby", teaser="Derby in Mechelen.")
    fan = make_user(username="geelrood")
    path = f"/artikels/{article.cms_id}"
    page = new_page(chromium, javascript)
    log_in(page, base_url, fan, path)

    for text in CLEAN_TEXTS[:FLOOD_AFTER]:
        page.fill("#body", text)
        submit(page, "#reageer button[type=submit]")
        assert page.locator(".flash-success").count() == 1
        assert page.input_value("#body") == ""  # a posted comment leaves an empty form
    refused_text = CLEAN_TEXTS[FLOOD_AFTER]
    page.fill("#body", refused_text)
    submit(page, "#reageer button[type=submit]")

    assert page.input_value("#body") == refused_text
    assert_error_beside(page, "body", "Je reageert te snel")
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Comment)) == FLOOD_AFTER
    page.context.close()


def without_length_checks(page: Any, url: str, minimum: int) -> None:
    """Serve `url` to this page as a browser without constraint validation would see it: the
    server's rule must hold on its own (an old browser, an edited page, a script)."""

    def strip(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        body = response.text().replace(f' minlength="{minimum}"', "")
        route.fulfill(response=response, body=body)

    page.route(url, strip)


def test_the_browser_itself_refuses_a_too_short_password(chromium: Any, base_url: str) -> None:
    page = new_page(chromium, javascript=True)
    page.goto(f"{base_url}/registreren")

    # The limit comes from the form's validators, so the browser checks it before sending.
    assert page.get_attribute("#password", "minlength") == str(PASSWORD_MIN)
    page.fill("#password", "k" * (PASSWORD_MIN - 1))
    assert page.eval_on_selector("#password", "el => el.validity.tooShort") is True
    page.context.close()


def test_a_registration_with_a_refused_password_keeps_name_and_address(
    db: Session, chromium: Any, base_url: str, javascript: bool
) -> None:
    page = new_page(chromium, javascript)
    without_length_checks(page, f"{base_url}/registreren", PASSWORD_MIN)
    page.goto(f"{base_url}/registreren")
    short = "k" * (PASSWORD_MIN - 1)
    page.fill("#username", "Maneblusser")
    page.fill("#email", "maneblusser@example.test")
    page.fill("#password", short)
    page.fill("#password_repeat", short)
    submit(page, "form[action^='/registreren'] button[type=submit]")

    assert page.input_value("#username") == "Maneblusser"
    assert page.input_value("#email") == "maneblusser@example.test"
    assert page.input_value("#password") == ""  # a password is never sent back
    assert page.input_value("#password_repeat") == ""
    assert_error_beside(page, "password", f"minstens {PASSWORD_MIN} tekens")
    assert page.get_attribute("#password", "minlength") == str(PASSWORD_MIN)
    fresh(db)
    assert db.scalar(select(func.count()).select_from(User)) == 0
    page.context.close()
