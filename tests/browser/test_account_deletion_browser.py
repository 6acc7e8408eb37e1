"""Deleting one's account in Chromium with JavaScript off: from /profiel to the confirm page, a
wrong password refused beside the field with the choice kept, then the account gone and the
browser signed out; the comment stays as "verwijderde gebruiker"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Article, CommentState, User
from privacy.deletion import DELETED_NAME
from tests.browser.live import TIMEOUT_MS, log_in
from tests.conftest import TEST_PASSWORD
from tests.factories import create_comment, fresh

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]


def click_through(page: Any, selector: str) -> None:
    """Click a link or button and wait for the page it leads to."""
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(selector)


def test_a_fan_deletes_the_account_without_js(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("afscheid")
    fan = make_user(username="vertrekker")
    create_comment(db, article, fan, CommentState.PUBLISHED, body="Het ga jullie goed!")
    page = chromium.new_context(java_script_enabled=False).new_page()
    log_in(page, base_url, fan)
    page.goto(f"{base_url}/profiel")

    click_through(page, "a:has-text('Account verwijderen')")
    assert page.url == f"{base_url}/profiel/verwijderen"
    assert page.text_content("h1") == "Je account verwijderen"

    page.check("input[value='keep']")
    page.fill("#confirmation", "niet mijn wachtwoord")
    click_through(page, "button:has-text('Ja, verwijder mijn account')")
    assert page.text_content("#confirmation-error") == "Je wachtwoord klopt niet."
    assert page.get_attribute("#confirmation", "aria-invalid") == "true"
    assert page.is_checked("input[value='keep']")

    page.fill("#confirmation", TEST_PASSWORD)
    click_through(page, "button:has-text('Ja, verwijder mijn account')")
    assert page.url == f"{base_url}/"
    assert "Je account is verwijderd." in page.text_content(".flash")
    fresh(db)
    gone = db.get(User, fan.id)
    assert gone is not None and gone.deleted_at is not None

    page.goto(f"{base_url}/profiel")
    assert page.url.startswith(f"{base_url}/login")
    page.goto(f"{base_url}/artikels/afscheid")
    assert "Het ga jullie goed!" in page.content()
    assert DELETED_NAME in page.content() and "vertrekker" not in page.content()
    page.context.close()
