"""The embed in a real browser: a host page on another origin, third-party cookies blocked."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from models import Article, Ballot
from tests.polls_fixtures import assert_no_drift, create_poll

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def any_framer(app_settings: dict[str, Any]) -> None:
    """The host page (another origin) may frame the embed: production's default forbids it."""
    app_settings["EMBED_ALLOWED_ORIGINS"] = "*"


@pytest.fixture
def servers(app: Flask) -> Iterator[tuple[str, int]]:
    """The app on 127.0.0.1:<port>; a host page server on localhost:<other port>."""
    app_server = make_server("127.0.0.1", 0, app, threaded=True)
    app_port = app_server.server_port
    threading.Thread(target=app_server.serve_forever, daemon=True).start()

    class Host(BaseHTTPRequestHandler):
        poll_id = 0

        def do_GET(self) -> None:  # noqa: N802
            body = (
                "<!doctype html><html lang='nl'><body><h1>Krant</h1>"
                f"<div data-tribune-poll='{Host.poll_id}'></div>"
                f"<script src='http://127.0.0.1:{app_port}/static/embed.js' async></script>"
                "</body></html>"
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    host_server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=host_server.serve_forever, daemon=True).start()
    app.config["_host_handler"] = Host
    try:
        yield f"http://localhost:{host_server.server_port}", app_port
    finally:
        host_server.shutdown()
        app_server.shutdown()


def test_embed_resizes_and_votes_with_third_party_cookies_blocked(
    app: Flask, db: Session, chromium: Any, servers: tuple[str, int]
) -> None:
    host_url, app_port = servers
    article = Article(cms_id="browser-peiling", title="Browser")
    db.add(article)
    db.commit()
    poll = create_poll(db, article, options=("Ja", "Nee", "Weet niet"))
    app.config["_host_handler"].poll_id = poll.id

    context = chromium.new_context()
    # Block every cookie the Tribune origin tries to set or send from inside the frame.
    context.route(
        f"http://127.0.0.1:{app_port}/**",
        lambda route: route.continue_(
            headers={k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}
        ),
    )
    vote_requests: list[dict[str, str]] = []
    page = context.new_page()
    page.on(
        "request",
        lambda r: vote_requests.append(r.headers) if r.url.endswith("/votes") else None,
    )
    page.goto(host_url)
    iframe = page.wait_for_selector("iframe")
    frame = iframe.content_frame()
    assert frame is not None
    frame.wait_for_selector("fieldset legend")
    # Resized by postMessage from its default 360px to the content.
    page.wait_for_function(
        "() => document.querySelector('iframe').style.height !== '360px'", timeout=10_000
    )
    before = page.evaluate("() => document.querySelector('iframe').style.height")

    # Keyboard: focus the first radio, arrow to "Nee", submit with Enter.
    frame.focus("input[type=radio]")
    frame.page.keyboard.press("ArrowDown")
    frame.page.keyboard.press("Enter")
    frame.wait_for_selector(".poll-own", timeout=10_000)
    assert "Jouw stem: Nee" in frame.inner_text(".poll-results")
    assert "100%" in frame.inner_text(".poll-results")
    assert frame.get_attribute(".poll-results", "aria-live") == "polite"
    page.wait_for_function(
        f"() => document.querySelector('iframe').style.height !== '{before}'", timeout=10_000
    )

    # The vote carried the signed token in a header, and no cookie.
    assert vote_requests, "no vote request seen"
    headers = vote_requests[-1]
    assert headers.get("x-tribune-voter-token")
    assert "cookie" not in {k.lower() for k in headers}
    storage = frame.get_attribute("[data-poll-widget]", "data-token-storage")
    assert storage in ("cookie", "localStorage", "memory")
    # Ordinary (unpartitioned) third-party cookies are really blocked in this frame.
    plain = frame.evaluate(
        "() => { document.cookie = 'plain=1; SameSite=None; Secure; Path=/';"
        " return document.cookie.includes('plain=1'); }"
    )
    assert plain is False

    db.rollback()
    rows = list(db.scalars(select(Ballot).where(Ballot.poll_id == poll.id)))
    assert len(rows) == 1 and rows[0].voter_key.startswith("a:")
    assert_no_drift(app)
    context.close()
