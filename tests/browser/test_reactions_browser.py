""""Sterk" and the sort "Beste" in Chromium: on the article page with and without JavaScript,
in the comments embed (a host page on another origin, bearer token only), and at phone width."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from accounts.embed_sessions import issue_embed_session
from comments import reactions
from models import Article, Comment, CommentState, EmbedVia, Reaction, User, utcnow
from moderation.rules import PostingPolicy
from tests.browser.live import TIMEOUT_MS, host_page, log_in
from tests.factories import assert_no_drift, create_comment, fresh

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

EMBED = "[data-tribune-comments]"
ROOT_JS = "document.querySelector('[data-tribune-comments]').shadowRoot"


@pytest.fixture(autouse=True)
def _settings(app_settings: dict[str, Any]) -> None:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"


def counted(db: Session, comment_id: int) -> tuple[int, int]:
    """(the stored counter, the rows) of one comment, as the app committed them."""
    fresh(db)
    counter = db.scalar(select(Comment.reaction_count).where(Comment.id == comment_id))
    rows = db.scalar(
        select(func.count()).select_from(Reaction).where(Reaction.comment_id == comment_id)
    )
    return int(counter or 0), int(rows or 0)


@pytest.fixture
def thread(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> dict[str, Any]:
    """An article with three comments whose "beste" order differs from the newest-first one:
    the oldest (3 h, 6 "Sterk") first, then the newest (no reaction), then the 1-hour-old one."""
    article = make_article("kvm-beste")
    author = make_user(username="schrijver")
    others = [make_user(username=f"lezer{i}") for i in range(6)]
    now = utcnow()
    old = create_comment(
        db, article, author, CommentState.PUBLISHED, "Wat een assist van Hairemans!",
        created_at=now - timedelta(hours=3),
    )
    middle = create_comment(
        db, article, author, CommentState.PUBLISHED, "Scheidsrechter was zwak.",
        created_at=now - timedelta(hours=1),
    )
    new = create_comment(
        db, article, author, CommentState.PUBLISHED, "Volgende week Club thuis.",
        created_at=now - timedelta(minutes=2),
    )
    for fan in others:
        reactions.react(db, fan, old.id, PostingPolicy(), now=now)
    db.commit()
    return {
        "article": article,
        "ids": {"old": old.id, "middle": middle.id, "new": new.id},
        "fan": make_user(username="supporter"),
    }


def thread_order(page: Any, scope: str = "") -> list[str]:
    return page.eval_on_selector_all(
        f"{scope} ol.thread > li.comment".strip(), "items => items.map(li => li.id)"
    )


def test_react_and_unreact_in_place_on_the_article_page(
    db: Session, chromium: Any, base_url: str, thread: dict[str, Any]
) -> None:
    target = thread["ids"]["middle"]
    path = f"/artikels/{thread['article'].cms_id}"
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url, thread["fan"], path)
    button = page.locator(f"#reactie-{target} button.sterk")
    assert button.get_attribute("aria-pressed") == "false"
    assert button.get_attribute("aria-label") == "Sterk, 0 keer gegeven"

    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    button.click()
    page.wait_for_selector(f"#reactie-{target} button.sterk[aria-pressed=true]", timeout=TIMEOUT_MS)
    assert button.locator(".reaction-count").text_content() == "1"
    assert button.get_attribute("aria-label") == "Sterk, 1 keer gegeven"
    assert counted(db, target) == (1, 1)

    button.click()
    page.wait_for_selector(
        f"#reactie-{target} button.sterk[aria-pressed=false]", timeout=TIMEOUT_MS
    )
    assert button.locator(".reaction-count").text_content() == "0"
    assert counted(db, target) == (0, 0)
    assert navigations == []  # toggled in place, no reload
    context.close()
    assert_no_drift(db)


def test_react_without_javascript_returns_to_the_comment(
    db: Session, chromium: Any, base_url: str, thread: dict[str, Any]
) -> None:
    target = thread["ids"]["old"]
    path = f"/artikels/{thread['article'].cms_id}"
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    log_in(page, base_url, thread["fan"], path)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(f"#reactie-{target} button.sterk")
    assert page.url.endswith(f"{path}#reactie-{target}")
    button = page.locator(f"#reactie-{target} button.sterk")
    assert button.get_attribute("aria-pressed") == "true"
    assert button.locator(".reaction-count").text_content() == "7"
    with page.expect_navigation(timeout=TIMEOUT_MS):
        button.click()
    assert page.locator(f"#reactie-{target} button.sterk").get_attribute("aria-pressed") == "false"
    assert counted(db, target) == (6, 6)
    context.close()


def test_beste_order_on_the_page_and_the_own_comment_shows_only_its_count(
    db: Session, chromium: Any, base_url: str, thread: dict[str, Any], make_user
) -> None:
    ids = thread["ids"]
    path = f"/artikels/{thread['article'].cms_id}"
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{base_url}{path}")
    assert thread_order(page) == [f"reactie-{ids[k]}" for k in ("new", "middle", "old")]
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.get_by_role("link", name="Beste").click()
    assert "volgorde=beste" in page.url
    assert page.get_by_role("link", name="Beste").get_attribute("aria-current") == "true"
    assert thread_order(page) == [f"reactie-{ids[k]}" for k in ("old", "new", "middle")]
    # A visitor sees the count, no button.
    assert page.locator("button.sterk").count() == 0
    assert "6 × Sterk" in page.text_content(f"#reactie-{ids['old']}")
    context.close()

    author = db.scalar(select(User).where(User.username == "schrijver"))
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url, author, path)
    assert page.locator(f"#reactie-{ids['old']} button.sterk").count() == 0
    assert "6 × Sterk" in page.text_content(f"#reactie-{ids['old']}")
    context.close()


def _host_html(base_url: str, article_id: str) -> str:
    return (
        "<!doctype html><html lang='nl'><head><title>Krant</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'></head>"
        f"<body><h1>Krant</h1><div data-tribune-comments='{article_id}'></div>"
        f"<script src='{base_url}/static/comments.js' async></script></body></html>"
    )


@contextmanager
def _embed(chromium: Any, base_url: str, article_id: str, width: int = 800) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": width, "height": 900})
    with host_page(_host_html(base_url, article_id)) as host_url:
        page = context.new_page()
        page.goto(host_url)
        page.wait_for_selector(f"{EMBED} #tribune-embed", timeout=TIMEOUT_MS)
        try:
            yield page
        finally:
            context.close()


def _sign_in(page: Any, base_url: str, db: Session, user: User) -> None:
    """Hand the embed a token the way the sign-in popup does (a Tribune-origin window)."""
    _, plain = issue_embed_session(db, user, EmbedVia.LOGIN)
    db.commit()
    with page.expect_popup(timeout=TIMEOUT_MS) as opened:
        page.evaluate("u => { window.open(u, 'tribune-test'); }", f"{base_url}/robots.txt")
    popup = opened.value
    popup.wait_for_load_state()
    popup.evaluate(
        "t => window.opener.postMessage("
        "{type: 'tribune:token', access_token: t, expires_in: 900}, '*')",
        plain,
    )
    popup.close()
    page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)


def test_react_unreact_and_beste_in_the_embed(
    db: Session, chromium: Any, base_url: str, thread: dict[str, Any]
) -> None:
    ids = thread["ids"]
    target = ids["new"]
    with _embed(chromium, base_url, thread["article"].cms_id) as page:
        assert page.locator(f"{EMBED} button.sterk").count() == 0  # a visitor: counts only
        _sign_in(page, base_url, db, thread["fan"])
        button = page.locator(f"{EMBED} #reactie-{target} button.sterk")
        assert button.get_attribute("aria-pressed") == "false"
        button.click()
        page.wait_for_selector(
            f"{EMBED} #reactie-{target} button.sterk[aria-pressed=true]", timeout=TIMEOUT_MS
        )
        assert button.locator(".reaction-count").text_content() == "1"
        assert counted(db, target) == (1, 1)
        button.click()
        page.wait_for_selector(
            f"{EMBED} #reactie-{target} button.sterk[aria-pressed=false]", timeout=TIMEOUT_MS
        )
        assert counted(db, target) == (0, 0)

        page.locator(f"{EMBED} p.sort a", has_text="Beste").click()
        page.wait_for_function(
            f"() => {ROOT_JS}.querySelector('p.sort a[aria-current]').textContent === 'Beste'",
            timeout=TIMEOUT_MS,
        )
        order = page.evaluate(
            f"() => Array.from({ROOT_JS}.querySelectorAll('ol.thread > li.comment'))"
            ".map(li => li.id)"
        )
        assert order == [f"reactie-{ids[k]}" for k in ("old", "new", "middle")]
    assert_no_drift(db)


@pytest.mark.parametrize("width", [360])
def test_sterk_fits_at_phone_width(
    db: Session, chromium: Any, base_url: str, thread: dict[str, Any], width: int
) -> None:
    path = f"/artikels/{thread['article'].cms_id}?volgorde=beste"
    context = chromium.new_context(viewport={"width": width, "height": 740})
    page = context.new_page()
    log_in(page, base_url, thread["fan"], path)
    wide = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert wide <= 0
    for button in page.locator("button.sterk").all():
        box = button.bounding_box()
        assert box is not None and box["x"] + box["width"] <= width and box["height"] >= 24
    page.locator("button.sterk").first.click()
    page.wait_for_selector("button.sterk[aria-pressed=true]", timeout=TIMEOUT_MS)
    context.close()
    with _embed(chromium, base_url, thread["article"].cms_id, width=width) as embedded:
        _sign_in(embedded, base_url, db, thread["fan"])
        wide = embedded.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0
        assert embedded.locator(f"{EMBED} button.sterk").count() == 3
