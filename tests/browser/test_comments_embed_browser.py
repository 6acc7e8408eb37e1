"""The comments embed in Chromium: a host page on another origin (localhost vs 127.0.0.1),
third-party cookies blocked, CSRF on. static/comments.js renders the thread into an open shadow
root of the host page and authenticates by its in-memory bearer token only (docs/embed.md).
Playwright's CSS and role locators pierce open shadow roots; `document.…` in page.evaluate
does not, hence ROOT_JS for the root's own state."""

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
from tests.factories import CLEAN_TEXTS, HOLD_TEXT, REJECT_TEXT, create_comment

pytestmark = pytest.mark.browser

ARTICLE = "defour-embed"
XSS = '<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
# A hostile host stylesheet: none of it may reach into the embed.
HOST_CSS = (
    "<style>*{color:rgb(255,0,0)!important;font-size:40px!important;"
    "font-family:serif!important}"
    "li.comment{display:none!important}textarea{width:3000px!important}"
    "div{border:5px solid red}p{color:green}</style>"
)
EMBED = "[data-tribune-comments]"
ROOT_JS = "document.querySelector('[data-tribune-comments]').shadowRoot"


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
        page.wait_for_selector(f"{EMBED} #tribune-embed", timeout=TIMEOUT_MS)
        try:
            yield page
        finally:
            context.close()


def _active_id(page: Any) -> str | None:
    """The id of the focused element inside the embed's shadow root."""
    return page.evaluate(f"() => {ROOT_JS}.activeElement && {ROOT_JS}.activeElement.id")


def _hand_token(page: Any, base_url: str, token: str, expires_in: int = 900) -> None:
    """Hand the embed a token the way the sign-in popup does: a window of the Tribune origin
    opened by the host page posts it to its opener."""
    with page.expect_popup(timeout=TIMEOUT_MS) as opened:
        page.evaluate("u => { window.open(u, 'tribune-test'); }", f"{base_url}/robots.txt")
    popup = opened.value
    popup.wait_for_load_state()
    popup.evaluate(
        "([t, e]) => window.opener.postMessage("
        "{type: 'tribune:token', access_token: t, expires_in: e}, '*')",
        [token, expires_in],
    )
    popup.close()


def _sign_in(page: Any, base_url: str, db: Session, user: User) -> None:
    _, plain = issue_embed_session(db, user, EmbedVia.LOGIN)
    db.commit()
    _hand_token(page, base_url, plain)
    page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)


def test_anonymous_thread_renders_in_the_shadow_root_and_stays_isolated(
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
    with _opened(chromium, base_url) as page:
        comments = page.locator(f"{EMBED} li.comment")
        assert comments.count() == 5
        # In an open shadow root of the host's div, not in a frame.
        assert page.locator("iframe").count() == 0
        assert page.evaluate(f"() => {ROOT_JS}.mode") == "open"
        assert page.evaluate("() => document.querySelectorAll('li.comment').length") == 0
        # Host CSS does not leak in: the embed's own colour, font and size, visible comments.
        style = comments.first.evaluate(
            "e => { const s = getComputedStyle(e); "
            "return [s.color, s.fontFamily, s.fontSize, s.display]; }"
        )
        assert style[0] == "rgb(26, 26, 26)"
        assert "system-ui" in style[1] and style[1] != "serif"
        assert style[2] == "15px"
        assert style[3] != "none"
        assert comments.first.is_visible()
        inner_div = page.locator(f"{EMBED} #tribune-embed").evaluate(
            "e => getComputedStyle(e).borderTopWidth"
        )
        assert inner_div == "0px"
        # The XSS payload is text.
        assert page.evaluate("() => window.pwned") is None
        assert page.locator(f"{EMBED} li.comment img").count() == 0
        assert "onerror" in page.locator(f"{EMBED} #tribune-embed").inner_text()
        assert page.get_by_role("link", name="Aanmelden").count() == 1
        # The links point at Tribune, not at the host page.
        sign_in = page.get_by_role("link", name="Aanmelden").get_attribute("href")
        assert sign_in is not None and sign_in.startswith(f"{base_url}/embed/aanmelden?")


def test_at_360_px_nothing_scrolls_sideways(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    fan = make_user()
    create_comment(db, article, fan, CommentState.PUBLISHED, "Lang" + "woord" * 40)
    with _opened(chromium, base_url, width=360) as page:
        _sign_in(page, base_url, db, make_user())
        page.locator(f"{EMBED} details summary", has_text="Antwoorden").first.click()
        wide = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert wide <= 0
        box = page.locator(f"{EMBED} #body").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 360


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
    with _opened(chromium, base_url) as page:
        page.wait_for_function(
            f"() => document.querySelector('[data-tribune-tally=\"{ARTICLE}\"]')"
            ".textContent.includes('1 reactie')",
            timeout=TIMEOUT_MS,
        )
        _sign_in(page, base_url, db, fan)
        # The thread is not swapped by a post: the other comment's element stays the same.
        page.locator(f"#reactie-{theirs.id}").evaluate("e => { e.kept = true; }")
        # A refused post answers only its form: the text, the error beside it, focus in it.
        page.locator(f"{EMBED} #body").evaluate("e => e.removeAttribute('minlength')")
        page.fill(f"{EMBED} #body", "x")
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector(f"{EMBED} #body[aria-invalid=true]", timeout=TIMEOUT_MS)
        assert _active_id(page) == "body" and page.input_value(f"{EMBED} #body") == "x"
        assert page.locator(f"#reactie-{theirs.id}").evaluate("e => e.kept === true")
        # Post: the new comment gets the focus, the host's tally follows.
        page.fill(f"{EMBED} #body", CLEAN_TEXTS[1])
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        assert page.locator(f"#reactie-{theirs.id}").evaluate("e => e.kept === true")
        assert page.input_value(f"{EMBED} #body") == ""
        assert page.inner_text(f"{EMBED} #reacties") == "2 reacties"
        db.rollback()
        mine = db.scalar(select(Comment).where(Comment.author_id == fan.id))
        assert mine is not None and mine.state is CommentState.PUBLISHED
        assert _active_id(page) == f"reactie-{mine.id}"
        page.wait_for_function(
            f"() => document.querySelector('[data-tribune-tally=\"{ARTICLE}\"]')"
            ".textContent.includes('2 reacties')",
            timeout=TIMEOUT_MS,
        )
        # Reply to the other reader.
        page.locator(f"#reactie-{theirs.id} summary", has_text="Antwoorden").first.click()
        page.fill(f"#reply-{theirs.id}", CLEAN_TEXTS[2])
        page.click(f"#antwoord-{theirs.id} button[type=submit]")
        page.wait_for_selector(f"#reactie-{theirs.id} ol.replies li.comment", timeout=TIMEOUT_MS)
        assert page.locator(f"#reactie-{theirs.id}").evaluate("e => e.kept === true")
        assert page.input_value(f"#reply-{theirs.id}") == ""
        assert page.locator(f"#reactie-{theirs.id} ol.replies li.comment").count() == 1
        # A refused edit keeps the text, the error beside the field, focus in it.
        page.locator(f"#reactie-{mine.id} summary", has_text="Bewerken").first.click()
        # (the browser's own minlength check would stop it first: the server's is tested)
        page.locator(f"#edit-{mine.id}").evaluate("e => e.removeAttribute('minlength')")
        page.fill(f"#edit-{mine.id}", "x")
        page.click(f"#bewerk-{mine.id} button[type=submit]")
        page.wait_for_selector(f"#edit-{mine.id}[aria-invalid=true]", timeout=TIMEOUT_MS)
        assert _active_id(page) == f"edit-{mine.id}"
        assert page.input_value(f"#edit-{mine.id}") == "x"
        page.fill(f"#edit-{mine.id}", CLEAN_TEXTS[3])
        page.click(f"#bewerk-{mine.id} button[type=submit]")
        page.wait_for_selector("text=Je reactie is aangepast.", timeout=TIMEOUT_MS)
        # Report the other reader's comment with a reason.
        page.locator(f"#reactie-{theirs.id} > .comment-actions summary", has_text="Melden").click()
        page.select_option(f"#reason-{theirs.id}", "spam")
        page.locator(
            f"#reactie-{theirs.id} > .comment-actions form button", has_text="Melden"
        ).click()
        page.wait_for_selector(
            "text=Bedankt, een moderator bekijkt je melding.", timeout=TIMEOUT_MS
        )
    db.rollback()
    db.expire_all()
    assert db.get(Comment, mine.id).body == CLEAN_TEXTS[3]  # type: ignore[union-attr]
    assert db.scalar(select(Report).where(Report.comment_id == theirs.id)) is not None


def test_abusive_comment_shows_the_rejection_with_its_reason(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, make_user())
        page.fill(f"{EMBED} #body", REJECT_TEXT)
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector(f"{EMBED} .own-pending", timeout=TIMEOUT_MS)
        text = page.inner_text(f"{EMBED} .own-pending")
        assert "Niet geplaatst: " in text
        assert page.get_by_text("Bezwaar maken").count() == 1


def test_banned_sso_reader_sees_the_ban(
    db: Session, chromium: Any, base_url: str, article: Article
) -> None:
    with _opened(chromium, base_url, extra=f" data-tribune-sso='{_sso('Bart Boos')}'") as page:
        page.wait_for_selector(f"{EMBED} #body", timeout=TIMEOUT_MS)
        db.rollback()
        reader = db.scalar(select(User).where(User.username == "Bart Boos"))
        assert reader is not None
        reader.banned_until = utcnow() + timedelta(days=3)
        reader.ban_reason = "Spam"
        db.commit()
        # The site signs the reader in again (a new page view would do the same).
        page.evaluate("t => window.Tribune.comments.login(t)", _sso("Bart Boos", later=1))
        page.wait_for_selector(f"{EMBED} .suspension", timeout=TIMEOUT_MS)
        assert page.locator(f"{EMBED} #body").count() == 0


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
    with _opened(chromium, base_url) as page:
        _hand_token(page, base_url, token)
        alert = page.wait_for_selector(f"{EMBED} [role=alert]", timeout=TIMEOUT_MS)
        assert ("verlopen" if kind == "expired" else "ongeldig") in alert.inner_text()
        assert page.locator(f"{EMBED} #body").count() == 0
        assert page.get_by_role("link", name="Aanmelden").count() == 1


def test_a_token_message_from_the_host_page_itself_is_ignored(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    _, plain = issue_embed_session(db, make_user(), EmbedVia.LOGIN)
    db.commit()
    with _opened(chromium, base_url) as page:
        seen: list[str] = []
        page.on("request", lambda r: seen.append(r.url))
        # Same shape, wrong origin (the host's, not Tribune's): comments.js takes only the popup's.
        page.evaluate(
            "t => window.postMessage({type: 'tribune:token', access_token: t, expires_in: 900},"
            " '*')",
            plain,
        )
        page.wait_for_timeout(500)
        assert page.locator(f"{EMBED} .who").count() == 0
        assert not [url for url in seen if "/embed/comments/" in url]


def test_new_comments_announce_themselves_after_a_conditional_check(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    author = make_user()
    create_comment(db, article, author, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    with _opened(chromium, base_url, clock=True) as page:
        checks: list[int] = []
        page.on(
            "response",
            lambda r: (
                checks.append(r.status)
                if f"/embed/comments/{ARTICLE}" in r.url and r.request.headers.get("if-none-match")
                else None
            ),
        )
        page.clock.run_for(65_000)  # no poll open: the idle interval (60 s)
        for _ in range(50):
            if checks:
                break
            page.wait_for_timeout(100)
        assert checks == [304]  # nothing new: a bodiless 304
        for text in CLEAN_TEXTS[1:4]:
            create_comment(db, article, author, CommentState.PUBLISHED, text)
        page.clock.run_for(65_000)
        button = page.wait_for_selector(f"{EMBED} #nieuw button", timeout=TIMEOUT_MS)
        assert button.inner_text() == "3 nieuwe reacties"
        assert page.get_attribute(f"{EMBED} #nieuw", "aria-live") == "polite"
        assert page.locator(f"{EMBED} li.comment").count() == 1  # not swapped in before asked
        button.click()
        page.wait_for_function(
            f"() => {ROOT_JS}.querySelectorAll('li.comment').length === 4", timeout=TIMEOUT_MS
        )


def test_sso_reader_is_signed_in_by_the_host_page_and_logs_out(
    db: Session, chromium: Any, base_url: str, article: Article
) -> None:
    extra = f" data-tribune-sso='{_sso()}'"
    with _opened(chromium, base_url, extra=extra) as page:
        page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)
        assert "Jan Peeters" in page.inner_text(f"{EMBED} .who")
        page.fill(f"{EMBED} #body", CLEAN_TEXTS[0])
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        page.evaluate("() => window.Tribune.comments.logout()")
        page.wait_for_function(
            f"() => {ROOT_JS}.querySelector('#tribune-embed') && !{ROOT_JS}.querySelector('.who')",
            timeout=TIMEOUT_MS,
        )
        assert page.get_by_role("link", name="Aanmelden").count() == 1
        # A single-page site signs the reader in again with a token made after the logout
        # (one made before it is refused as a replay: iat has whole seconds, hence `later`).
        page.evaluate("t => window.Tribune.comments.login(t)", _sso(later=2))
        page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)
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
    with _opened(chromium, base_url, extra=f" data-tribune-sso='{token()}'") as page:
        alert = page.wait_for_selector(f"{EMBED} .notice.error", timeout=TIMEOUT_MS)
        assert message in alert.inner_text().lower()
        assert page.locator(f"{EMBED} .who").count() == 0
        assert page.get_by_role("link", name="Aanmelden").count() == 1


@pytest.mark.parametrize("blocked", [False, True], ids=["popup", "popup-blocked-new-tab"])
def test_popup_login_hands_the_embed_a_token_and_no_cookie_is_sent(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
    blocked: bool,
) -> None:
    fan = make_user()
    # Chromium's own third-party cookie blocking stays on; the popup is first-party.
    with _opened(chromium, base_url, strip_cookies=False) as page:
        sent: list[dict[str, str]] = []
        page.on(
            "request",
            lambda r: sent.append(r.all_headers()) if r.url.startswith(base_url) else None,
        )
        if blocked:
            # A blocker makes window.open return null: the link itself opens a new tab.
            page.evaluate("() => { window.open = () => null; }")
        with page.context.expect_page(timeout=TIMEOUT_MS) as opened:
            page.get_by_role("link", name="Aanmelden").click()
        popup = opened.value
        popup.wait_for_selector("#login", timeout=TIMEOUT_MS)
        assert popup.url.startswith(f"{base_url}/login?next=/embed/aanmelden")
        popup.fill("#login", fan.username)
        popup.fill("#password", TEST_PASSWORD)
        popup.click("form[action='/login'] button[type=submit]")
        popup.wait_for_event("close", timeout=TIMEOUT_MS)
        page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)
        assert fan.username in page.inner_text(f"{EMBED} .who")
        page.fill(f"{EMBED} #body", CLEAN_TEXTS[0])
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        # The popup's first-party session cookie exists, yet no embed request carried a cookie:
        # the bearer token (in comments.js's closure) is the only credential.
        assert page.context.cookies(base_url)
        assert sent and all("cookie" not in headers for headers in sent)
        assert any("authorization" in headers for headers in sent)


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
    with _opened(chromium, base_url, clock=True) as page:
        refreshed: list[int] = []
        page.on(
            "response",
            lambda r: refreshed.append(r.status) if r.url.endswith("/sessions/refresh") else None,
        )
        _, plain = issue_embed_session(db, fan, EmbedVia.LOGIN, lifetime=timedelta(seconds=120))
        db.commit()
        _hand_token(page, base_url, plain, expires_in=120)
        page.wait_for_selector(f"{EMBED} .who", timeout=TIMEOUT_MS)
        page.clock.run_for(61_000)  # refreshed a minute before the end
        for _ in range(50):
            if refreshed:
                break
            page.wait_for_timeout(100)
        assert refreshed == [201]
        # The old token ended; the new one works: delete asks first, then deletes.
        page.click(f"#reactie-{mine.id} a.delete-link")
        page.wait_for_selector(f"{EMBED} #bevestig", timeout=TIMEOUT_MS)
        assert _active_id(page) == "bevestig"
        db.rollback()
        assert db.get_one(Comment, mine.id).state is CommentState.PUBLISHED
        page.click("text=Ja, verwijder mijn reactie")
        page.wait_for_selector("text=Je reactie is verwijderd.", timeout=TIMEOUT_MS)
    db.rollback()
    db.expire_all()
    assert db.get_one(Comment, mine.id).state is CommentState.DELETED


# ---------------------------------------------------------------- posting through the JSON API

# The outerHTML of an element of the shadow root, without what focusing it adds (tabindex).
OUTER_JS = (
    f"id => {{ const e = {ROOT_JS}.getElementById(id).cloneNode(true);"
    " e.removeAttribute('tabindex'); return e.outerHTML.replace(/>\\s+</g, '><').trim(); }"
)


def _posts(page: Any) -> list[Any]:
    """Every write (POST, PATCH) the page sends, recorded from now on."""
    sent: list[Any] = []
    page.on("request", lambda r: sent.append(r) if r.method in ("POST", "PATCH") else None)
    return sent


def _server_render(page: Any) -> None:
    """The thread again from the server (the sort link: a fragment request, no post)."""
    page.locator(f"{EMBED} p.sort a", has_text="Nieuwste").click()
    page.wait_for_function(f"() => !{ROOT_JS}.querySelector('p.notice')", timeout=TIMEOUT_MS)


def test_posts_and_replies_go_through_the_json_api_and_match_the_server_render(
    db: Session,
    chromium: Any,
    base_url: str,
    article: Article,
    make_user: Callable[..., User],
) -> None:
    other = make_user()
    top = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    one = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[1], parent=top)
    two = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[2], parent=one)
    fan = make_user()
    # Links to domains screening allows (others are held), a line break, a script payload.
    body = f"Zie www.hln.be. en https://sporza.be/nl/a?b=1)\nnieuwe lijn {XSS}"
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, fan)
        sent = _posts(page)
        page.fill(f"{EMBED} #body", body)
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        db.rollback()
        mine = db.scalars(select(Comment).where(Comment.author_id == fan.id)).one()
        assert _active_id(page) == f"reactie-{mine.id}"
        assert page.evaluate("() => window.pwned") is None
        assert page.locator(f"#reactie-{mine.id} .comment-body a").count() == 2
        # A reply at depth 3 names whom it answers.
        page.locator(f"#reactie-{two.id} summary", has_text="Antwoorden").first.click()
        page.fill(f"#reply-{two.id}", CLEAN_TEXTS[3])
        page.click(f"#antwoord-{two.id} button[type=submit]")
        page.wait_for_selector(f"#reactie-{two.id} ol.replies li.comment", timeout=TIMEOUT_MS)
        db.rollback()
        reply = db.scalars(select(Comment).where(Comment.parent_id == two.id)).one()
        assert reply.depth == 3 and _active_id(page) == f"reactie-{reply.id}"
        assert f"antwoord op {other.username}" in page.inner_text(f"#reactie-{reply.id}")
        assert page.inner_text(f"{EMBED} #reacties") == "5 reacties"
        # An edit: the new text in place, "bewerkt", the form taken out (a fresh one next time).
        page.locator(f"#reactie-{mine.id} summary", has_text="Bewerken").first.click()
        page.fill(f"#edit-{mine.id}", "Toch www.hln.be\nen verder")
        page.click(f"#bewerk-{mine.id} button[type=submit]")
        page.wait_for_selector("text=Je reactie is aangepast.", timeout=TIMEOUT_MS)
        assert _active_id(page) == f"reactie-{mine.id}"
        assert page.locator(f"#bewerk-{mine.id}").count() == 0
        assert "bewerkt" in page.inner_text(f"#reactie-{mine.id} > .comment-meta")
        # A report of the other reader's comment.
        page.locator(f"#reactie-{top.id} > .comment-actions summary", has_text="Melden").click()
        page.select_option(f"#reason-{top.id}", "spam")
        page.locator(f"#reactie-{top.id} > .comment-actions form button", has_text="Melden").click()
        page.wait_for_selector(
            "text=Bedankt, een moderator bekijkt je melding.", timeout=TIMEOUT_MS
        )
        assert _active_id(page) == f"reactie-{top.id}"
        # All went to the JSON API as JSON with the bearer token, no form route.
        api = f"{base_url}/api/v1"
        assert [(r.method, r.url) for r in sent] == [
            ("POST", f"{api}/articles/{ARTICLE}/comments"),
            ("POST", f"{api}/articles/{ARTICLE}/comments"),
            ("PATCH", f"{api}/comments/{mine.id}"),
            ("POST", f"{api}/comments/{top.id}/reports"),
        ]
        assert all(r.headers.get("content-type") == "application/json" for r in sent)
        assert all(r.headers.get("authorization", "").startswith("Bearer tre_") for r in sent)
        assert sent[1].post_data_json == {"body": CLEAN_TEXTS[3], "parent_id": two.id}
        assert sent[3].post_data_json == {"reason": "spam", "note": None}
        built = {i: page.evaluate(OUTER_JS, f"reactie-{i}") for i in (mine.id, reply.id)}
        # The same comments as the server renders them (pages/_comment.html), markup for markup.
        _server_render(page)
        for comment_id, html in built.items():
            assert page.evaluate(OUTER_JS, f"reactie-{comment_id}") == html


def test_a_held_comment_shows_its_notice_and_reason_in_the_embed(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, make_user())
        page.fill(f"{EMBED} #body", HOLD_TEXT)
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector(
            "text=Je reactie wordt eerst nagekeken door een moderator.", timeout=TIMEOUT_MS
        )
        card = page.inner_text(f"{EMBED} .own-pending")
        assert "Wacht op nakijken door een moderator. Signalen: Beledigend" in card
        assert HOLD_TEXT in card
        assert page.inner_text(f"{EMBED} #reacties") == "Nog geen reacties"
        assert page.locator(f"{EMBED} li.comment").count() == 0
        db.rollback()
        held = db.scalars(select(Comment)).one()
        assert held.state is CommentState.HELD
        built = page.evaluate(OUTER_JS, f"reactie-{held.id}")
        _server_render(page)
        assert page.evaluate(OUTER_JS, f"reactie-{held.id}") == built


def test_a_rejected_comment_matches_the_server_render_with_its_appeal(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, make_user())
        sent = _posts(page)
        page.fill(f"{EMBED} #body", REJECT_TEXT)
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector(f"{EMBED} .own-pending", timeout=TIMEOUT_MS)
        assert page.locator(f"{EMBED} p.notice.error[role=alert]").count() == 1
        assert "Niet geplaatst: Racisme of haat." in page.inner_text(f"{EMBED} .own-pending")
        db.rollback()
        rejected = db.scalars(select(Comment)).one()
        built = page.evaluate(OUTER_JS, f"reactie-{rejected.id}")
        _server_render(page)
        # The appeal form's CSRF value is per rendering: compared without it.
        strip = r"/<input name=\"csrf_token\"[^>]*>/"
        again = page.evaluate(OUTER_JS, f"reactie-{rejected.id}")
        assert page.evaluate(
            f"([a, b]) => a.replace({strip}, '') === b.replace({strip}, '')", [built, again]
        )
        # The appeal, through the JSON API: the card says it is pending, as the server's does.
        page.locator(f"#reactie-{rejected.id} summary", has_text="Bezwaar maken").click()
        page.fill(f"#appeal-{rejected.id}", "Dit was een citaat uit het artikel.")
        page.click(f"#reactie-{rejected.id} form button[type=submit]")
        page.wait_for_selector("text=Je bezwaar is ingediend.", timeout=TIMEOUT_MS)
        assert _active_id(page) == f"reactie-{rejected.id}"
        assert sent[-1].url == f"{base_url}/api/v1/comments/{rejected.id}/appeal"
        appealed = page.evaluate(OUTER_JS, f"reactie-{rejected.id}")
        assert "Je bezwaar: in behandeling" in appealed and "<form" not in appealed
        _server_render(page)
        assert page.evaluate(OUTER_JS, f"reactie-{rejected.id}") == appealed


def _tab_to(page: Any, element_id: str, limit: int = 60) -> None:
    """Tab (only the keyboard) until the embed's element with this id has the focus."""
    for _ in range(limit):
        if _active_id(page) == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def test_keyboard_only_post_refusal_reply_and_escape(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    other = make_user()
    theirs = create_comment(db, article, other, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, make_user())
        page.locator("h1").click()  # start on the host page, before the embed
        _tab_to(page, "body")
        # Trimmed to one character: refused by the server, beside the field, text kept.
        page.keyboard.type("  a")
        page.keyboard.press("Tab")
        assert page.evaluate(f"() => {ROOT_JS}.activeElement.textContent") == "Plaats reactie"
        page.keyboard.press("Enter")
        page.wait_for_selector(f"{EMBED} #body[aria-invalid=true]", timeout=TIMEOUT_MS)
        assert _active_id(page) == "body"
        assert page.input_value(f"{EMBED} #body") == "  a"
        error = page.inner_text(f"{EMBED} #body-error")
        assert error and "body-error" in (
            page.get_attribute(f"{EMBED} #body", "aria-describedby") or ""
        )
        # Fixed and sent with the button by the keyboard (Space): focus on the new comment.
        page.keyboard.press("Control+A")
        page.keyboard.type(CLEAN_TEXTS[1])
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
        active = _active_id(page) or ""
        assert active.startswith("reactie-") and active != f"reactie-{theirs.id}"
        assert page.locator(f"{EMBED} #body-error").count() == 0
        # Reply by keyboard: Tab to the other's "Antwoorden", Enter opens it, Escape closes it
        # (focus back on the toggle), Enter again, type, send.
        for _ in range(60):
            focused = page.evaluate(
                f"() => {{ const a = {ROOT_JS}.activeElement; return a && a.tagName === 'SUMMARY'"
                " && a.closest('li.comment').id; }"
            )
            if focused == f"reactie-{theirs.id}":
                break
            page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert _active_id(page) == f"reply-{theirs.id}"
        page.keyboard.type("eerst nog nadenken")
        page.keyboard.press("Escape")
        assert page.evaluate(f"() => {ROOT_JS}.activeElement.tagName") == "SUMMARY"
        assert not page.locator(f"#reactie-{theirs.id} details[data-form=reply]").evaluate(
            "d => d.open"
        )
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        assert page.input_value(f"#reply-{theirs.id}") == "eerst nog nadenken"
        page.keyboard.press("Control+A")
        page.keyboard.type(CLEAN_TEXTS[2])
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        page.wait_for_selector(f"#reactie-{theirs.id} ol.replies li.comment", timeout=TIMEOUT_MS)
        reply_id = page.evaluate(
            f"() => {ROOT_JS}.querySelector('#reactie-{theirs.id} ol.replies li.comment').id"
        )
        assert _active_id(page) == reply_id


def test_an_edit_that_is_held_takes_the_comment_out_of_the_thread_with_the_notice(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    fan = make_user()
    mine = create_comment(db, article, fan, CommentState.PUBLISHED, CLEAN_TEXTS[0])
    with _opened(chromium, base_url) as page:
        _sign_in(page, base_url, db, fan)
        page.locator(f"#reactie-{mine.id} summary", has_text="Bewerken").first.click()
        page.fill(f"#edit-{mine.id}", HOLD_TEXT)
        page.click(f"#bewerk-{mine.id} button[type=submit]")
        page.wait_for_selector(
            "text=Je aangepaste reactie wordt eerst nagekeken.", timeout=TIMEOUT_MS
        )
        assert page.locator(f"{EMBED} li.comment").count() == 0
        assert HOLD_TEXT in page.inner_text(f"{EMBED} .own-pending")


def test_the_writing_half_is_loaded_only_for_a_signed_in_reader(
    db: Session, chromium: Any, base_url: str, article: Article, make_user: Callable[..., User]
) -> None:
    context = chromium.new_context()
    loaded: list[str] = []
    context.on("request", lambda r: loaded.append(r.url) if "/static/comments" in r.url else None)
    with host_page(_host_html(base_url)) as host_url:
        page = context.new_page()
        page.goto(host_url)
        page.wait_for_selector(f"{EMBED} #tribune-embed", timeout=TIMEOUT_MS)
        # An anonymous reader downloads the reading half only.
        assert loaded == [f"{base_url}/static/comments.js"]
        # A script of the page cannot install methods through the hook (it is not the writer):
        # had it, its `write` would swallow the post below and keep the writer out.
        page.evaluate(
            "() => window.Tribune.comments._install((E) => { E.prototype.write = () => true; })"
        )
        _sign_in(page, base_url, db, make_user())
        assert loaded == [f"{base_url}/static/comments.js", f"{base_url}/static/comments-write.js"]
        page.fill(f"{EMBED} #body", CLEAN_TEXTS[0])
        page.click(f"{EMBED} #reageer button[type=submit]")
        page.wait_for_selector("text=Je reactie staat online.", timeout=TIMEOUT_MS)
    context.close()
