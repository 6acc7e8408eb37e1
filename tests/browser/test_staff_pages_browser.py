"""Staff pages in Chromium: decision buttons that differ in colour and words with readable
contrast, a refused admin change shown beside its field, copy buttons and post-redirect-get
for a new API token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from comments.services import report_comment
from models import ApiToken, Article, CommentState, Role, User
from moderation.actions import file_appeal
from moderation.rules import PostingPolicy
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import create_comment, fresh
from tests.polls_fixtures import create_poll

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

BUTTON_STYLES_JS = """() => [...document.querySelectorAll('.queue-actions button')]
  .filter(b => b.offsetParent !== null)
  .map(b => {
    const s = getComputedStyle(b);
    return {text: b.innerText.replace(/\\s+/g, ' ').trim(), cls: b.className,
            bg: s.backgroundColor, fg: s.color};
  })"""


def rgb(css: str) -> tuple[int, int, int]:
    parts = [int(float(p)) for p in re.findall(r"[\d.]+", css)[:3]]
    return parts[0], parts[1], parts[2]


def luminance(color: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: tuple[int, int, int], two: tuple[int, int, int]) -> float:
    light, dark = sorted((luminance(one), luminance(two)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_decision_buttons_differ_in_colour_and_words_with_aa_contrast(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    moderator = make_user(Role.MODERATOR, username="scheids")
    fan, reader = make_user(username="supporter"), make_user(username="lezer")
    article = make_article()
    held = create_comment(db, article, fan, CommentState.HELD)
    removed = create_comment(db, article, fan, CommentState.REMOVED, actor=moderator)
    file_appeal(db, fan, removed.id, "Dit was geen spam.")
    reported = create_comment(db, article, fan, CommentState.PUBLISHED)
    report_comment(db, reported.id, reader, "spam", None, PostingPolicy())
    db.commit()
    page = chromium.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, moderator)

    buttons: dict[str, dict[str, str]] = {}
    for comment in (held, removed, reported):
        page.goto(f"{base_url}/moderatie/reacties/{comment.id}")
        for button in page.evaluate(BUTTON_STYLES_JS):
            buttons[button["text"]] = button

    publish, refuse = buttons["Publiceren a"], buttons["Weigeren r"]
    restore = buttons["Terugzetten op de site"]
    uphold = buttons["Bezwaar toekennen: reactie terug online"]
    assert "Van de site halen r" in buttons and "Bezwaar afwijzen: reactie blijft weg" in buttons
    # Approve is green, reject red, and they are far apart; restoring is not the appeal.
    green, red = rgb(publish["bg"]), rgb(refuse["bg"])
    assert green[1] > green[0] and green[1] > green[2], publish
    assert red[0] > red[1] and red[0] > red[2], refuse
    assert sum(abs(a - b) for a, b in zip(green, red, strict=True)) > 200
    assert (restore["bg"], restore["text"]) != (uphold["bg"], uphold["text"])
    # Every decision button's text is readable on its background (WCAG AA, 4.5:1).
    for text, button in buttons.items():
        ratio = contrast(rgb(button["fg"]), rgb(button["bg"]))
        assert ratio >= 4.5, f"{text!r}: {button['fg']} on {button['bg']} is {ratio:.2f}:1"


def test_changing_your_own_role_shows_the_reason_beside_it_and_keeps_the_choice(
    db: Session, chromium: Any, base_url: str, make_user: Callable[..., User]
) -> None:
    admin = make_user(Role.ADMIN, username="baas")
    page = chromium.new_context().new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, admin, "/beheer/")

    select_id = f"#role-{admin.id}"
    page.select_option(select_id, "fan")
    with page.expect_navigation():
        page.click(f"form:has({select_id}) button[type=submit]")

    assert page.locator("h1").inner_text() == "Gebruikers"
    assert page.input_value(select_id) == "fan"
    assert page.get_attribute(select_id, "aria-invalid") == "true"
    error = page.locator(f"#role-{admin.id}-error")
    assert error.inner_text() == "Je kan je eigen rol niet wijzigen."
    described = page.get_attribute(select_id, "aria-describedby") or ""
    assert f"role-{admin.id}-error" in described.split()
    fresh(db)
    assert db.get(User, admin.id).role is Role.ADMIN  # type: ignore[union-attr]


def test_a_new_token_is_shown_once_copied_and_a_reload_makes_no_second_one(
    db: Session, chromium: Any, base_url: str, make_user: Callable[..., User]
) -> None:
    editor = make_user(Role.EDITOR, username="redacteur")
    context = chromium.new_context()
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, editor)
    page.goto(f"{base_url}/profiel")

    page.fill("#name", "CMS productie")
    with page.expect_navigation():
        page.click("form[action='/profiel/sleutels'] button[type=submit]")
    assert page.url == f"{base_url}/profiel"  # redirected: nothing in the URL
    token = page.inner_text("#new-token code")
    page.click("button[data-copy='new-token']")
    page.wait_for_function(
        "() => document.querySelector('.copy-status').textContent === 'Gekopieerd.'"
    )
    assert page.evaluate("() => navigator.clipboard.readText()") == token

    page.reload()  # F5 on the page after the POST: a GET, no second token

    assert page.locator("#new-token").count() == 0
    fresh(db)
    stored = db.scalars(select(ApiToken)).all()
    assert len(stored) == 1 and token.startswith(stored[0].prefix)


def test_without_the_clipboard_the_snippet_is_selected_for_ctrl_c(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    poll = create_poll(db, make_article())
    context = chromium.new_context()
    context.add_init_script("Object.defineProperty(navigator, 'clipboard', {value: undefined})")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, make_user(Role.EDITOR), f"/redactie/peilingen/{poll.id}")

    page.click("button[data-copy='embed-snippet']")

    snippet = page.inner_text("#embed-snippet")
    assert f'data-tribune-poll="{poll.id}"' in snippet
    assert page.evaluate("() => window.getSelection().toString()") == snippet
    assert "Ctrl+C" in page.inner_text(".copy-status")


def test_without_javascript_no_copy_button_is_shown(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
) -> None:
    poll = create_poll(db, make_article())
    page = chromium.new_context(java_script_enabled=False).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    log_in(page, base_url, make_user(Role.EDITOR), f"/redactie/peilingen/{poll.id}")

    assert page.is_hidden("button[data-copy='embed-snippet']")
    assert page.is_visible("#embed-snippet")
