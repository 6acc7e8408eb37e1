"""The comments embed in Chromium: a host page on another origin (localhost vs 127.0.0.1),
third-party cookies blocked, CSRF on. The iframe authenticates by its in-memory bearer token
only (docs/embed.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from accounts.embed_sessions import issue_embed_session
from models import Article, Comment, CommentState, EmbedVia, Report, User, utcnow
from tests.browser.live import TIMEOUT_MS, host_page
from tests.conftest import TEST_PASSWORD
from tests.factories import CLEAN_TEXTS, REJECT_TEXT, create_comment

pytestmark = pytest.mark.browser

ARTICLE = "defour-embed"
XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
# A hostile host stylesheet: none of it may reach into the embed.
HOST_CSS = (
    "<style>*{color:rgb(255,0,0)!important;font-size:40px!important}"
    "li.comment{display:none!important}textarea{width:3000px!important}</style>"
)


SSO_SECRET = "demo-geheim-van-de-krant-0123456789abcdef"


@pytest.fixture(autouse=True)
def _settings(app_settings: dict[str, Any]) -> None:
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"
    app_settings["WTF_CSRF_ENABLED"] = True
    app_settings["TRIBUNE_SSO_SECRET"] = SSO_SECRET


def _sso(
    name: str = "Jan Peeters", minutes: int = 5, secret: str = SSO_SECRET, later: int = 0
) -> str:
    now = utcnow() + timedelta(seconds=later)
    payload = {
        "sub": "lezer-" + name.split()[0].lower(),
        "name": name,
        "iat": int(now.timestamp()) - (3600 if minutes < 0 else 0),
        "exp": int((now + timedelta(minutes=minutes)).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm="HS256")


@pytest.fixture
def article(db: Session) -> Article:
    item = Article(cms_id=ARTICLE, title="Defour blijft")
    db.add(item)
    db.commit()
    return item


def _host_html(base_url: str, extra: str = "") -> str:
    return (
        "<!doctype html><html lang='nl'><head><title>Krant</title>"
        f"{HOST_CSS}</head><body><h1>Defour blijft</h1>"
        f"<p>Teller: <span data-tribune-tally='{ARTICLE}'></span></p>"
        f"<div data-tribune-comments='{ARTICLE}'{extra}></div>"
        f"<script src='{base_url}/static/counts.js' defer></script>"
        f"<script src='{base_url}/static/comments.js' async></script>"
        "</body></html>"
    )


@contextmanager
def _opened(
    chromium: Any,
    base_url: str,
    width: int = 800,
    extra: str = "",
    clock: bool = False,
    strip_cookies: bool = True,
) -> Iterator[Any]:
    """The host page with the embed; with strip_cookies no cookie ever reaches the Tribune
    origin (besides Chromium's own third-party cookie blocking)."""
    context = chromium.new_context(viewport={"width": width, "height": 900})
    if clock:
        context.clock.install()
    if strip_cookies:
        context.route(
            f"{base_url}/**",
            lambda route: route.continue_(
                headers={k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
            ),
        )
    with host_page(_host_html(base_url, extra)) as host_url:
        page = context.new_page()
        page.goto(host_url)
        frame = page.wait_for_selector("iframe").content_frame()
        frame.wait_for_selector("#tribune-embed", timeout=TIMEOUT_MS)
        try:
            yield page, frame
        finally:
            context.close()


def _sign_in(frame: Any, db: Session, user: User) -> None:
    """Hand the embed a token the way the sign-in popup does (a same-origin message)."""
    _, plain = issue_embed_session(db, user, EmbedVia.LOGIN)
    db.commit()
    frame.evaluate(
        "t => window.postMessage({type: 'tribune:token', access_token: t, expires_in: 900},"
        " location.origin)",
        plain,
    )
    frame.wait_for_selector(".who", timeout=TIMEOUT_MS)


def _height(page: Any) -> int:
    return int(page.evaluate("() => parseInt(document.querySelector('iframe').style.height)"))


def test_anonymous_thread_renders_resizes_and_stays_isolated(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    author = make_user()
    for text in CLEAN_TEXTS[:4]:
        create_comment(db, article, author, CommentState.PUBLISHED, text)
    create_comment(db, article, author, CommentState.PUBLISHED, XSS)
    with _opened(chromium, base_url) as (page, frame):
        assert frame.locator("li.comment").count() == 5
        page.wait_for_function(
            "() => document.querySelector('iframe').style.height !== '320px'", timeout=TIMEOUT_MS
        )
        # The iframe is as tall as its content: nothing hidden, no inner scroll.
        inner = frame.evaluate("() => document.body.getBoundingClientRect().height")
        assert abs(_height(page) - inner) < 30
        # Host CSS does not leak in.
        color = frame.evaluate("() => getComputedStyle(document.querySelector('li.comment')).color")
        assert color != "rgb(255, 0, 0)"
        assert frame.locator("li.comment").first.is_visible()
        # The XSS payload is text.
        assert frame.evaluate("() => window.pwned") is None
        assert page.evaluate("() => window.pwned") is None
        assert frame.locator("li.comment img").count() == 0
        assert "onerror" in frame.inner_text("#tribune-embed")
        assert frame.get_by_role("link", name="Aanmelden").count() == 1


def test_at_360_px_nothing_scrolls_sideways(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    fan = make_user()
    create_comment(db, article, fan, CommentState.PUBLISHED, "Lang" + "woord" * 40)
    with _opened(chromium, base_url, width=360) as (_page, frame):
        _sign_in(frame, db, make_user())
        frame.locator("details summary", has_text="Antwoorden").first.click()
        wide = frame.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0


def test_signed_in_reader_posts_replies_edits_and_reports(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    other = make_user()
    theirs = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    fan = make_user()
    with _opened(chromium, base_url) as (page, frame):
        page.wait_for_function(
            f"() => document.querySelector('[data-tribune-tally=\"{ARTICLE}\"]')"
            ".textContent.includes('1 reactie')",
            timeout=TIMEOUT_MS,
        )
        _sign_in(frame, db, fan)
        # Post: the new comment gets the focus, the host's tally follows.
        frame.fill("#body", CLEAN_TEXTS[1])
        frame.click("#reageer button[type=submit]")
        frame.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        db.rollback()
        mine = db.scalar(select(Comment).where(Comment.author_id == fan.id))
        assert mine is not None and mine.state is CommentState.PUBLISHED
        assert frame.evaluate("() => document.activeElement.id") == f"reactie-{mine.id}"
        page.wait_for_function(
            f"() => document.querySelector('[data-tribune-tally=\"{ARTICLE}\"]')"
            ".textContent.includes('2 reacties')",
            timeout=TIMEOUT_MS,
        )
        # Reply to the other reader.
        frame.locator(f"#reactie-{theirs.id} summary", has_text="Antwoorden").first.click()
        frame.fill(f"#reply-{theirs.id}", CLEAN_TEXTS[2])
        frame.click(f"#antwoord-{theirs.id} button[type=submit]")
        frame.wait_for_selector(f"#reactie-{theirs.id} ol.replies li.comment", timeout=TIMEOUT_MS)
        # A refused edit keeps the text, the error beside the field, focus in it.
        frame.locator(f"#reactie-{mine.id} summary", has_text="Bewerken").first.click()
        # (the browser's own minlength check would stop it first: the server's is tested)
        frame.evaluate(
            f"() => document.querySelector('#edit-{mine.id}').removeAttribute('minlength')"
        )
        frame.fill(f"#edit-{mine.id}", "x")
        frame.click(f"#bewerk-{mine.id} button[type=submit]")
        frame.wait_for_selector(f"#edit-{mine.id}[aria-invalid=true]", timeout=TIMEOUT_MS)
        assert frame.evaluate("() => document.activeElement.id") == f"edit-{mine.id}"
        assert frame.input_value(f"#edit-{mine.id}") == "x"
        frame.fill(f"#edit-{mine.id}", CLEAN_TEXTS[3])
        frame.click(f"#bewerk-{mine.id} button[type=submit]")
        frame.wait_for_selector("text=Je reactie is aangepast.", timeout=TIMEOUT_MS)
        # Report the other reader's comment with a reason.
        frame.locator(f"#reactie-{theirs.id} > .comment-actions summary", has_text="Melden").click()
        frame.select_option(f"#reason-{theirs.id}", "spam")
        frame.locator(
            f"#reactie-{theirs.id} > .comment-actions form button", has_text="Melden"
        ).click()
        frame.wait_for_selector(
            "text=Bedankt, een moderator bekijkt je melding.", timeout=TIMEOUT_MS
        )
    db.rollback()
    db.expire_all()
    assert db.get(Comment, mine.id).body == CLEAN_TEXTS[3]  # type: ignore[union-attr]
    assert db.scalar(select(Report).where(Report.comment_id == theirs.id)) is not None


def test_abusive_comment_shows_the_rejection_with_its_reason(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    with _opened(chromium, base_url) as (_page, frame):
        _sign_in(frame, db, make_user())
        frame.fill("#body", REJECT_TEXT)
        frame.click("#reageer button[type=submit]")
        frame.wait_for_selector(".own-pending", timeout=TIMEOUT_MS)
        text = frame.inner_text(".own-pending")
        assert "Niet geplaatst: " in text
        assert frame.get_by_text("Bezwaar maken").count() == 1


def test_banned_sso_reader_sees_the_ban(
    db: Session, chromium: Any, base_url: str, article: Article
) -> None:
    with _opened(chromium, base_url, extra=f" data-tribune-sso='{_sso('Bart Boos')}'") as (
        page,
        frame,
    ):
        frame.wait_for_selector("#body", timeout=TIMEOUT_MS)
        db.rollback()
        reader = db.scalar(select(User).where(User.username == "Bart Boos"))
        assert reader is not None
        reader.banned_until = utcnow() + timedelta(days=3)
        reader.ban_reason = "Spam"
        db.commit()
        # The site signs the reader in again (a new page view would do the same).
        page.evaluate("t => window.Tribune.comments.login(t)", _sso("Bart Boos", later=1))
        frame.wait_for_selector(".suspension", timeout=TIMEOUT_MS)
        assert frame.locator("#body").count() == 0


@pytest.mark.parametrize("kind", ["expired", "forged"])
def test_expired_or_forged_token_is_refused_in_dutch(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
    kind: str,
) -> None:
    if kind == "expired":
        _, token = issue_embed_session(
            db, make_user(), EmbedVia.LOGIN, now=utcnow() - timedelta(hours=1)
        )
        db.commit()
    else:
        token = "tre_" + "Z" * 43
    with _opened(chromium, base_url) as (_page, frame):
        frame.evaluate(
            "t => window.postMessage({type: 'tribune:token', access_token: t, expires_in: 900},"
            " location.origin)",
            token,
        )
        alert = frame.wait_for_selector("[role=alert]", timeout=TIMEOUT_MS)
        assert ("verlopen" if kind == "expired" else "ongeldig") in alert.inner_text()
        assert frame.locator("#body").count() == 0
        assert frame.get_by_role("link", name="Aanmelden").count() == 1


def test_new_comments_announce_themselves_after_a_conditional_check(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user()
    create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    with _opened(chromium, base_url, clock=True) as (page, frame):
        checks: list[int] = []
        page.on(
            "response",
            lambda r: (
                checks.append(r.status)
                if f"/embed/comments/{ARTICLE}" in r.url and r.request.headers.get("if-none-match")
                else None
            ),
        )
        page.clock.run_for(25_000)
        for _ in range(50):
            if checks:
                break
            page.wait_for_timeout(100)
        assert checks == [304]  # nothing new: a bodiless 304
        for text in CLEAN_TEXTS[1:4]:
            create_comment(db, article, author, CommentState.PUBLISHED, text)
        page.clock.run_for(25_000)
        button = frame.wait_for_selector("#nieuw button", timeout=TIMEOUT_MS)
        assert button.inner_text() == "3 nieuwe reacties"
        assert frame.get_attribute("#nieuw", "aria-live") == "polite"
        assert frame.locator("li.comment").count() == 1  # not swapped in before asked
        button.click()
        frame.wait_for_function(
            "() => document.querySelectorAll('li.comment').length === 4", timeout=TIMEOUT_MS
        )


def test_sso_reader_is_signed_in_by_the_host_page_and_logs_out(
    db: Session, chromium: Any, base_url: str, article: Article
) -> None:
    extra = f" data-tribune-sso='{_sso()}'"
    with _opened(chromium, base_url, extra=extra) as (page, frame):
        frame.wait_for_selector(".who", timeout=TIMEOUT_MS)
        assert "Jan Peeters" in frame.inner_text(".who")
        frame.fill("#body", CLEAN_TEXTS[0])
        frame.click("#reageer button[type=submit]")
        frame.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        page.evaluate("() => window.Tribune.comments.logout()")
        frame.wait_for_selector("#tribune-embed:not(:has(.who))", timeout=TIMEOUT_MS)
        assert frame.get_by_role("link", name="Aanmelden").count() == 1
        # A single-page site signs the reader in again with a token made after the logout
        # (one made before it is refused as a replay: iat has whole seconds, hence `later`).
        page.evaluate("t => window.Tribune.comments.login(t)", _sso(later=2))
        frame.wait_for_selector(".who", timeout=TIMEOUT_MS)
    db.rollback()
    [comment] = db.scalars(select(Comment)).all()
    assert db.get_one(User, comment.author_id).username == "Jan Peeters"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (lambda: _sso(minutes=-1), "verlopen"),
        (lambda: _sso(secret="een-heel-ander-geheim-0123456789abcdef"), "ongeldig"),
    ],
    ids=["expired", "forged"],
)
def test_expired_or_forged_sso_token_is_refused_in_dutch(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    token: Callable[[], str],
    message: str,
) -> None:
    with _opened(chromium, base_url, extra=f" data-tribune-sso='{token()}'") as (_page, frame):
        alert = frame.wait_for_selector(".notice.error", timeout=TIMEOUT_MS)
        assert message in alert.inner_text().lower()
        assert frame.locator(".who").count() == 0
        assert frame.get_by_role("link", name="Aanmelden").count() == 1


@pytest.mark.parametrize("blocked", [False, True], ids=["popup", "popup-blocked-new-tab"])
def test_popup_login_hands_the_embed_a_token(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
    blocked: bool,
) -> None:
    fan = make_user()
    # Chromium's own third-party cookie blocking stays on; the popup is first-party.
    with _opened(chromium, base_url, strip_cookies=False) as (page, frame):
        if blocked:
            # A blocker makes window.open return null: the link itself opens a new tab.
            frame.evaluate("() => { window.open = () => null; }")
        with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
            frame.get_by_role("link", name="Aanmelden").click()
        popup = opened.value
        popup.wait_for_selector("#login", timeout=TIMEOUT_MS)
        assert popup.url.startswith(f"{base_url}/login?next=/embed/aanmelden")
        popup.fill("#login", fan.username)
        popup.fill("#password", TEST_PASSWORD)
        popup.click("form[action='/login'] button[type=submit]")
        popup.wait_for_event("close", timeout=TIMEOUT_MS)
        frame.wait_for_selector(".who", timeout=TIMEOUT_MS)
        assert fan.username in frame.inner_text(".who")
        frame.fill("#body", CLEAN_TEXTS[0])
        frame.click("#reageer button[type=submit]")
        frame.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)


def test_the_token_is_refreshed_before_it_expires_and_delete_asks_first(
    app: Flask,
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    app.config["TRIBUNE_EMBED_SESSION_SECONDS"] = 120
    fan = make_user()
    mine = create_comment(db, article, fan, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    with _opened(chromium, base_url, clock=True) as (page, frame):
        refreshed: list[int] = []
        page.on(
            "response",
            lambda r: refreshed.append(r.status) if r.url.endswith("/sessions/refresh") else None,
        )
        _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN, lifetime=timedelta(seconds=120))
        db.commit()
        frame.evaluate(
            "t => window.postMessage({type: 'tribune:token', access_token: t, expires_in: 120},"
            " location.origin)",
            plain,
        )
        frame.wait_for_selector(".who", timeout=TIMEOUT_MS)
        page.clock.run_for(61_000)  # refreshed a minute before the end
        for _ in range(50):
            if refreshed:
                break
            page.wait_for_timeout(100)
        assert refreshed == [201]
        # The old token ended; the new one works: delete asks first, then deletes.
        frame.click(f"#reactie-{mine.id} a.delete-link")
        frame.wait_for_selector("#bevestig", timeout=TIMEOUT_MS)
        assert frame.evaluate("() => document.activeElement.id") == "bevestig"
        db.rollback()
        assert db.get_one(Comment, mine.id).state is CommentState.PUBLISHED
        frame.click("text=Ja, verwijder mijn reactie")
        frame.wait_for_selector("text=Je reactie is verwijderd.", timeout=TIMEOUT_MS)
    db.rollback()
    db.expire_all()
    assert db.get_one(Comment, mine.id).state is CommentState.DELETED
