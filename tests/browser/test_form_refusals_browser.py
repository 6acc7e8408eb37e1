"""Refused forms in Chromium keep what the person typed: a comment refused by the flood limit
and a registration with a password the rules refuse come back filled in, with the reason
beside the field (aria-invalid, aria-describedby). With JavaScript and without."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.services import PASSWORD_MIN
from models import Article, Comment, CommentState, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import CLEAN_TEXTS, create_comment, fresh

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


def assert_at_the_form(page: Any, field_id: str) -> None:
    """The answer opened at the refused field (the form's action ends in #<field id>): on
    screen, with the cursor in it, with or without JavaScript; its error is an alert."""
    assert page.url.endswith(f"#{field_id}")
    assert page.evaluate("() => document.activeElement.id") == field_id
    assert page.get_attribute(f"#{field_id}-error", "role") == "alert"
    box = page.locator(f"#{field_id}").bounding_box()
    assert box is not None and 0 < box["y"] < page.viewport_size["height"]
    label = page.locator(f"label[for='{field_id}']").bounding_box()
    assert label is not None and label["y"] >= 0  # the label scrolled into view with it


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
    assert_at_the_form(page, "body")
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


def without_minlength(page: Any) -> None:
    """Serve article pages as a browser without constraint validation (or an edited page) would
    see them, so the server's own length rule answers."""

    def strip(route: Any) -> None:
        if route.request.method != "GET":
            route.continue_()
            return
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace(' minlength="2"', ""))

    page.route(re.compile(r"/artikels/[^/?#]+(\?[^#]*)?$"), strip)


def test_a_refused_reply_and_edit_keep_their_text_open_at_the_form(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    javascript: bool,
) -> None:
    article = make_article("kvm-beker", teaser="Beker in Mechelen.")
    other = make_user(username="kenner")
    fan = make_user(username="geelrood")
    # Many comments above, so the forms start below the fold of the answer page.
    for n in range(12):
        create_comment(db, article, other, CommentState.PUBLISHED, body=f"Reactie nummer {n}.")
    parent = create_comment(db, article, other, CommentState.PUBLISHED, body="Wie wint de beker?")
    own = create_comment(db, article, fan, CommentState.PUBLISHED, body="KVM wint de beker.")
    path = f"/artikels/{article.cms_id}"
    page = new_page(chromium, javascript)
    without_minlength(page)
    log_in(page, base_url, fan, path)
    page.goto(f"{base_url}{path}?volgorde=oudste")  # routed (a redirect's target is not)

    page.click(f"#reactie-{parent.id} > .comment-actions summary")
    page.fill(f"#reply-{parent.id}", "x")
    submit(page, f"#antwoord-{parent.id} button[type=submit]")
    assert page.input_value(f"#reply-{parent.id}") == "x"
    assert_error_beside(page, f"reply-{parent.id}", "Een reactie heeft")
    assert_at_the_form(page, f"reply-{parent.id}")

    page.goto(f"{base_url}{path}?volgorde=oudste")
    page.click(f"#reactie-{own.id} > .comment-actions details:has(#bewerk-{own.id}) summary")
    page.fill(f"#edit-{own.id}", "y")
    submit(page, f"#bewerk-{own.id} button[type=submit]")
    assert page.input_value(f"#edit-{own.id}") == "y"
    assert_error_beside(page, f"edit-{own.id}", "Een reactie heeft")
    assert_at_the_form(page, f"edit-{own.id}")

    fresh(db)
    assert db.scalar(select(func.count()).select_from(Comment)) == 14
    assert db.get_one(Comment, own.id).body == "KVM wint de beker."
    page.context.close()


def test_a_suspension_keeps_the_text_and_then_shows_instead_of_the_forms(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    javascript: bool,
) -> None:
    article = make_article("kvm-schorsing", teaser="Derby.")
    fan = make_user(username="geelrood")
    other = create_comment(db, article, make_user(), CommentState.PUBLISHED, body="Mooie derby.")
    path = f"/artikels/{article.cms_id}"
    page = new_page(chromium, javascript)
    log_in(page, base_url, fan, path)
    page.fill("#body", CLEAN_TEXTS[0])

    # A moderator suspends the fan while they type: 12:30 UTC is 14:30 in Brussels (summer).
    suspended = db.get_one(User, fan.id)
    suspended.banned_until = datetime(2099, 7, 1, 12, 30, tzinfo=UTC)
    db.commit()
    submit(page, "#reageer button[type=submit]")

    assert page.input_value("#body") == CLEAN_TEXTS[0]
    assert_error_beside(page, "body", "Je account is geschorst tot 1 juli 2099 om 14:30")
    assert_at_the_form(page, "body")

    # From then on the page says so up front, with no form, reply or edit control.
    page.goto(f"{base_url}{path}")
    notice = page.locator(".suspension")
    assert "geschorst tot 1 juli 2099 om 14:30 (Belgische tijd)" in notice.text_content()
    assert page.locator("textarea").count() == 0
    summaries = page.locator(f"#reactie-{other.id} summary").all_text_contents()
    assert "Antwoorden" not in summaries and "Melden" in summaries  # reporting stays open
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Comment)) == 1
    page.context.close()
