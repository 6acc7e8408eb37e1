"""A deep thread on a phone: every reply keeps a readable width (fans read on match days on
their phones; six levels of desktop indentation left the deepest reply a word wide)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from comments.services import MAX_DEPTH
from models import Article, CommentState, User
from tests.factories import create_comment

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 780}


def test_the_deepest_reply_stays_readable_on_a_phone(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    article = make_article("diepe-draad")
    fans = [make_user(), make_user(), make_user()]
    parent = None
    for level in range(MAX_DEPTH + 1):
        parent = create_comment(
            db,
            article,
            fans[level % 3],
            CommentState.PUBLISHED,
            body=f"Niveau {level}: een antwoord dat lang genoeg is om over regels te lopen.",
            parent=parent,
        )
    context = chromium.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()

    page.goto(f"{base_url}/artikels/diepe-draad")
    widths = page.eval_on_selector_all(
        ".comment-body", "els => els.map(e => Math.round(e.getBoundingClientRect().width))"
    )
    page_width = page.evaluate("() => document.documentElement.scrollWidth")
    # Flattened replies (the third level on) name whom they answer.
    named = [page.locator(".reply-to").nth(i).inner_text() for i in range(MAX_DEPTH - 2)]
    desktop = chromium.new_page(viewport={"width": 1200, "height": 900})
    desktop.goto(f"{base_url}/artikels/diepe-draad")
    shown_on_desktop = desktop.locator(".reply-to:visible").count()
    desktop.close()
    context.close()

    assert len(widths) == MAX_DEPTH + 1
    # The top-level comment has the full card width; the deepest reply keeps most of it.
    assert min(widths) >= 0.7 * widths[0], widths
    assert page_width <= PHONE["width"], "the thread scrolls sideways"
    parents = [fans[level % 3].username for level in range(2, MAX_DEPTH)]
    assert named == [f" · antwoord op {name}" for name in parents]
    assert shown_on_desktop == 0  # indentation shows it there
