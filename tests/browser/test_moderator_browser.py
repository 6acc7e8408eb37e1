"""The moderation queue driven by keyboard in Chromium (moderator.js): j/k to move, a to approve,
r then a digit to reject with a reason, x to select, ? for help. Outcomes are checked in the
database: comment states, reasons and the audit rows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from comments.services import report_comment
from models import (
    Article,
    Comment,
    CommentState,
    ModerationAction,
    ReasonCode,
    Report,
    ReportOutcome,
    Role,
    User,
)
from moderation.rules import PostingPolicy
from tests.browser.live import TIMEOUT_MS, log_in
from tests.factories import (
    assert_no_drift,
    audit_rows,
    audit_trail,
    create_comment,
    fresh,
    reload,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("real_csrf")]

BODIES = (
    "Wachtende reactie één over de opstelling.",
    "Wachtende reactie twee over de scheidsrechter.",
    "Wachtende reactie drie over de transfers.",
)
# What the top-row keys 1–8 type without Shift on a Belgian AZERTY keyboard.
AZERTY_UNSHIFTED = dict(zip("12345678", "&é\"'(§è!", strict=True))


@pytest.fixture
def held(
    db: Session, make_user: Callable[..., User], make_article: Callable[..., Article]
) -> list[Comment]:
    """Three held comments, in queue order (oldest first)."""
    author = make_user(username="driftig")
    article = make_article("derby-verslag")
    return [create_comment(db, article, author, CommentState.HELD, body=body) for body in BODIES]


def current_id(page: Any) -> int:
    """The comment id of the item moderator.js marks as current (and focuses)."""
    ids = page.eval_on_selector_all(
        ".queue-item.is-current", "els => els.map(e => e.dataset.commentId)"
    )
    assert len(ids) == 1, ids
    focused = page.evaluate("() => document.activeElement.dataset.commentId")
    assert focused == ids[0]
    return int(ids[0])


def queue_ids(page: Any) -> list[int]:
    """The comment ids of the queue's items, in page order."""
    ids = page.eval_on_selector_all(".queue-item", "els => els.map(e => e.dataset.commentId)")
    return [int(i) for i in ids]


def press_and_wait(page: Any, *keys: str) -> None:
    """Press keys whose last one submits a decision; wait for the queue to come back."""
    with page.expect_navigation(timeout=TIMEOUT_MS):
        for key in keys:
            page.keyboard.press(key)
    page.wait_for_selector("#queue", timeout=TIMEOUT_MS)


def test_queue_by_keyboard_approves_and_rejects_with_audit(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    held: list[Comment],
) -> None:
    first, second, third = (c.id for c in held)
    moderator = make_user(Role.MODERATOR, username="scheids")
    context = chromium.new_context()
    page = context.new_page()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    log_in(page, base_url, moderator, "/moderatie/")
    posts.clear()  # the login form

    assert queue_ids(page) == [first, second, third]
    assert current_id(page) == first
    assert page.text_content("[data-count-for='wachtrij']") == "3"

    # j/k move, clamped at both ends.
    page.keyboard.press("j")
    assert current_id(page) == second
    page.keyboard.press("j")
    page.keyboard.press("j")
    assert current_id(page) == third
    page.keyboard.press("k")
    page.keyboard.press("k")
    page.keyboard.press("k")
    assert current_id(page) == first
    page.keyboard.press("j")

    # x selects the current item for a bulk action (and again unselects it).
    box = f"#item-{second} .select-box"
    page.keyboard.press("x")
    assert page.is_checked(box)
    page.keyboard.press("x")
    assert not page.is_checked(box)

    # ? opens the help; Escape closes it.
    page.keyboard.press("?")
    assert page.is_visible("#help")
    page.keyboard.press("Escape")
    assert not page.is_visible("#help")

    # a approves the current item (the second).
    press_and_wait(page, "a")
    assert "Reactie goedgekeurd." in page.text_content(".flash")
    assert queue_ids(page) == [first, third]
    assert page.text_content("[data-count-for='wachtrij']") == "2"
    assert current_id(page) == first  # the reloaded queue starts at the top

    # r, then a key that is no reason number: nothing happens.
    page.keyboard.press("j")
    page.keyboard.press("r")
    assert page.evaluate("() => document.body.classList.contains('awaiting-reason')")
    page.keyboard.press("9")  # only 8 reasons
    assert not page.evaluate("() => document.body.classList.contains('awaiting-reason')")
    page.keyboard.press("r")
    page.keyboard.press("q")
    assert not page.evaluate("() => document.body.classList.contains('awaiting-reason')")
    assert posts == [f"{base_url}/moderatie/reacties/{second}/goedkeuren"]

    # r then 2 rejects the current item (the third) as "Racisme of haat".
    press_and_wait(page, "r", "2")
    assert "Reactie afgewezen." in page.text_content(".flash")
    assert queue_ids(page) == [first]

    # Keys typed into a field stay there.
    page.focus(f"#rnote-{first}")
    page.keyboard.type("ja")
    assert page.input_value(f"#rnote-{first}") == "ja"
    page.keyboard.press("Escape")
    assert posts == [
        f"{base_url}/moderatie/reacties/{second}/goedkeuren",
        f"{base_url}/moderatie/reacties/{third}/afwijzen",
    ]

    # The last one: approve, and the queue is empty.
    press_and_wait(page, "a")
    assert page.locator(".queue-item").count() == 0
    assert "Niets te doen in Wachtrij." in page.text_content("#queue")
    context.close()

    # In the database: states, reasons, and one audit row per decision, by the moderator.
    states = {c.id: reload(db, Comment, c.id) for c in held}
    assert states[first].state is CommentState.PUBLISHED
    assert states[second].state is CommentState.PUBLISHED
    assert states[third].state is CommentState.REJECTED
    assert states[third].decision_reason is ReasonCode.RACISME
    assert all(c.reviewed_at is not None for c in states.values())
    for comment_id in (first, second):
        assert audit_trail(db, comment_id) == [
            ("post", "new", "held", None),
            ("approve", "held", "published", moderator.id),
        ]
    assert audit_trail(db, third) == [
        ("post", "new", "held", None),
        ("reject", "held", "rejected", moderator.id),
    ]
    assert audit_rows(db, third)[-1].reason_code == "racisme"
    assert_no_drift(db)


def azerty_key(cdp: Any, digit: str, shifted: bool) -> None:
    """Press a top-row key as on a Belgian AZERTY keyboard: with Shift it types the digit
    (Shift goes down first, as a keydown of its own); without, the accented letter (2 → é)."""
    shift = {"key": "Shift", "code": "ShiftLeft", "windowsVirtualKeyCode": 16}
    text = digit if shifted else AZERTY_UNSHIFTED[digit]
    key = {"key": text, "code": f"Digit{digit}", "windowsVirtualKeyCode": 48 + int(digit)}
    modifiers = 8 if shifted else 0
    if shifted:
        cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": 8, **shift})
    cdp.send("Input.dispatchKeyEvent", {"type": "rawKeyDown", "modifiers": modifiers, **key})
    cdp.send(
        "Input.dispatchKeyEvent", {"type": "char", "text": text, "modifiers": modifiers, **key}
    )
    cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": modifiers, **key})
    if shifted:
        cdp.send("Input.dispatchKeyEvent", {"type": "keyUp", "modifiers": 0, **shift})


@pytest.mark.parametrize("shifted", [True, False], ids=["shift-digit", "unshifted"])
def test_reject_reason_digit_typed_on_azerty(
    shifted: bool,
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    held: list[Comment],
) -> None:
    """Belgian keyboards (AZERTY) need Shift for the digits above the letters; a moderator who
    forgets it types é, which the key's position still makes reason 2."""
    moderator = make_user(Role.MODERATOR, username="scheids")
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url, moderator, "/moderatie/")
    # Catch the submit instead of following it: the answer is known at once, no waiting.
    page.evaluate(
        """() => document.addEventListener('submit', (e) => {
            e.preventDefault();
            window.submitted = [e.target.action, e.target.reason.value];
        })"""
    )
    cdp = context.new_cdp_session(page)
    page.keyboard.press("r")
    azerty_key(cdp, "2", shifted)
    submitted = page.evaluate("() => window.submitted || null")
    context.close()
    assert submitted == [f"{base_url}/moderatie/reacties/{held[0].id}/afwijzen", "racisme"]


def test_d_dismisses_reports_and_b_n_open_their_forms_by_keyboard(
    db: Session,
    chromium: Any,
    base_url: str,
    make_user: Callable[..., User],
    make_article: Callable[..., Article],
    held: list[Comment],
) -> None:
    """The other shortcuts: d (dismiss a reported comment's reports, on Gemeld), b (open the
    author's suspension form), n (open the note form); typing in them triggers nothing."""
    moderator = make_user(Role.MODERATOR, username="scheids")
    reader = make_user(username="melder")
    reported = create_comment(
        db,
        make_article("bekerfinale"),
        make_user(),
        CommentState.PUBLISHED,
        body="Scherp maar eerlijk.",
    )
    report, _ = report_comment(db, reported.id, reader, "beledigend", None, PostingPolicy())
    db.commit()
    context = chromium.new_context()
    page = context.new_page()
    log_in(page, base_url, moderator, "/moderatie/?tab=gemeld")
    assert queue_ids(page) == [reported.id]

    press_and_wait(page, "d")
    assert queue_ids(page) == []
    assert reload(db, Report, report.id).outcome is ReportOutcome.DISMISSED
    assert reload(db, Comment, reported.id).state is CommentState.PUBLISHED

    page.goto(f"{base_url}/moderatie/")
    first = held[0].id
    page.keyboard.press("b")
    assert page.evaluate(f"() => document.querySelector('#item-{first} .ban-box').open")
    assert page.evaluate("() => document.activeElement.id") == f"dur-{first}"
    page.keyboard.press("Escape")  # leaves the field; the form stays open

    page.keyboard.press("n")
    assert page.evaluate(f"() => document.querySelector('#item-{first} .note-box').open")
    assert page.evaluate("() => document.activeElement.id") == f"nbody-{first}"
    page.keyboard.type("a r j: geen sneltoetsen in een veld")
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click(f"#item-{first} .note-box button[type=submit]")
    context.close()

    fresh(db)
    notes = db.scalars(
        select(ModerationAction.note).where(ModerationAction.action == "add_note")
    ).all()
    assert notes == ["a r j: geen sneltoetsen in een veld"]
    assert reload(db, Comment, first).state is CommentState.HELD  # "a" typed, nothing approved
