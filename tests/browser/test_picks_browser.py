"""Editor picks, pins and vote badges in Chromium, through the real no-JS forms (CSRF on):
an editor features a fan's comment and pins their own; a fan who ticks "Toon mijn stem bij mijn
reacties" when voting sees "stemde: Ja" beside their comment, at phone width too; a vote cast
anonymously (then claimed at sign-in) shows none; quarantine from /redactie/ takes it away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Article, Ballot, Comment, CommentState, ModerationAction, Role, User
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import assert_no_drift, create_comment, fresh
from tests.polls_fixtures import create_poll

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

PHONE = {"width": 360, "height": 740}
PATH = "/artikels/derby"


@pytest.fixture
def scene(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> dict[str, Any]:
    article = make_article("derby")
    poll = create_poll(db, article, options=("Ja", "Nee"))
    fan = make_user(Role.FAN, username="Jonas")
    editor = make_user(Role.EDITOR, username="Redacteur")
    return {
        "article": article,
        "poll": poll,
        "fan": fan,
        "editor": editor,
        "fans": create_comment(db, article, fan, CommentState.PUBLISHED, "Wat een redding!"),
        "own": create_comment(db, article, editor, CommentState.PUBLISHED, "Opstelling bekend."),
    }


def new_page(chromium: Any, **options: Any) -> tuple[Any, Any]:
    context = chromium.new_context(**options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def submit(page: Any, selector: str) -> None:
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(selector)


def no_sideways_scroll(page: Any) -> bool:
    widths = page.evaluate(
        "() => [document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    )
    return bool(widths[0] <= widths[1])


def test_an_editor_features_a_comment_and_pins_their_own(
    app: Flask, db: Session, chromium: Any, base_url: str, scene: dict[str, Any]
) -> None:
    fans, own = scene["fans"], scene["own"]
    context, page = new_page(chromium)
    log_in(page, base_url, scene["editor"], PATH)

    submit(page, f"#reactie-{fans.id} .pick-controls button:has-text('Uitlichten')")
    assert "De reactie is uitgelicht." in page.inner_text("body")
    section = page.locator("section.featured-comments")
    assert section.locator("h3").inner_text() == "Uitgelicht"
    assert "Wat een redding!" in section.inner_text()
    assert page.locator(f"#reactie-{fans.id} .featured-label").count() == 1

    submit(page, f"#reactie-{own.id} .pick-controls button:has-text('Vastpinnen')")
    pinned = page.locator("#vastgepind")
    assert "Redactie: Redacteur" in pinned.inner_text()
    assert "Opstelling bekend." in pinned.inner_text()
    # The pinned comment sits above the section and the thread.
    order = page.evaluate(
        "() => [...document.querySelectorAll('#vastgepind, section.featured-comments, ol.thread')]"
        ".map(e => e.id || e.className)"
    )
    assert order == ["vastgepind", "card featured-comments", "thread"]

    submit(page, "a:has-text('uitgelicht')")
    assert page.locator("ol.thread > li.comment").count() == 1
    assert "Wat een redding!" in page.inner_text("ol.thread")

    # The fan sees the pick and the pin, without staff buttons.
    fan_context, fan_page = new_page(chromium)
    log_in(fan_page, base_url, scene["fan"], PATH)
    assert "Redactie: Redacteur" in fan_page.inner_text("#vastgepind")
    assert fan_page.locator(".pick-controls").count() == 0
    fan_context.close()

    page.goto(base_url + PATH)
    submit(page, f"#reactie-{own.id} .pick-controls button:has-text('Losmaken')")
    assert page.locator("#vastgepind").count() == 0
    context.close()
    fresh(db)
    assert db.get_one(Comment, fans.id).featured_by_id == scene["editor"].id
    assert db.get_one(Article, scene["article"].id).pinned_comment_id is None
    assert [
        a
        for (a,) in db.execute(
            select(ModerationAction.action)
            .where(ModerationAction.action.in_(("feature", "pin", "unpin")))
            .order_by(ModerationAction.id)
        )
    ] == ["feature", "pin", "unpin"]


def test_a_badge_after_an_opted_in_vote_at_phone_width_and_gone_after_quarantine(
    app: Flask, db: Session, chromium: Any, base_url: str, scene: dict[str, Any]
) -> None:
    poll, fans = scene["poll"], scene["fans"]
    context, page = new_page(chromium, viewport=PHONE, is_mobile=True)
    log_in(page, base_url, scene["fan"], PATH)
    block = f"#peiling-{poll.id}"
    page.check(f"{block} label:has-text('Ja')")
    page.check(f"{block} label:has-text('Toon mijn stem bij mijn reacties')")
    assert no_sideways_scroll(page)

    submit(page, f"{block} button.poll-submit")

    badge = page.locator(f"#reactie-{fans.id} .vote-badge")
    assert badge.inner_text() == "stemde: Ja"
    assert no_sideways_scroll(page)
    submit(page, "a:has-text('reacties van Ja-stemmers')")
    assert page.locator("ol.thread > li.comment").count() == 1

    # Burst detection would mark it; the editor puts it in quarantine on /redactie/.
    fresh(db)
    db.execute(update(Ballot).values(is_suspicious=True, suspicion="burst"))
    db.commit()
    editor_context, editor_page = new_page(chromium)
    log_in(editor_page, base_url, scene["editor"], f"/redactie/peilingen/{poll.id}/resultaten")
    editor_page.check("input[name=ballot]")
    submit(editor_page, "button:has-text('Aangevinkte in quarantaine')")
    assert "1 stem in quarantaine gezet." in editor_page.inner_text("body")
    editor_context.close()

    page.goto(base_url + PATH)
    assert page.locator(f"#reactie-{fans.id} .vote-badge").count() == 0
    assert "stemde:" not in page.inner_text("ol.thread")
    context.close()
    assert_no_drift(db)


def test_no_badge_after_an_anonymous_vote(
    app: Flask, db: Session, chromium: Any, base_url: str, scene: dict[str, Any]
) -> None:
    poll, fans = scene["poll"], scene["fans"]
    context, page = new_page(chromium)
    page.goto(base_url + PATH)
    block = f"#peiling-{poll.id}"
    # Not signed in: no badge to offer beside the vote.
    assert page.locator(f"{block} input[name=show_badge]").count() == 0
    page.check(f"{block} label:has-text('Ja')")
    submit(page, f"{block} button.poll-submit")
    assert "Jouw stem: Ja" in page.inner_text(f"{block} .poll-own")

    log_in(page, base_url, scene["fan"], PATH)  # the ballot becomes the account's

    assert "Jouw stem: Ja" in page.inner_text(f"{block} .poll-own")
    assert page.locator(f"#reactie-{fans.id} .vote-badge").count() == 0
    context.close()
    fresh(db)
    [ballot] = db.scalars(select(Ballot).where(Ballot.poll_id == poll.id))
    assert ballot.user_id == scene["fan"].id and ballot.show_badge is False
