"""Helpers for browser tests that drive the app over a real port (not the Flask test client)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from models import User
from tests.conftest import TEST_PASSWORD

# Short waits: everything here is local, a slow answer is a failure worth seeing.
TIMEOUT_MS = 10_000


@contextmanager
def live_app(app: Flask) -> Iterator[str]:
    """Serve `app` on 127.0.0.1:<free port> in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def host_page(html: str) -> Iterator[str]:
    """Serve one fixed HTML page on localhost:<free port> (another origin than 127.0.0.1)."""
    body = html.encode()

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()


def log_in(page: Any, base_url: str, user: User, next_path: str = "/") -> None:
    """Log in through the real login form (typing, like a person) and land on `next_path`."""
    page.goto(f"{base_url}/login?next={next_path}")
    page.fill("#login", user.username)
    page.fill("#password", TEST_PASSWORD)
    with page.expect_navigation(timeout=TIMEOUT_MS):
        page.click("form[action='/login'] button[type=submit]")
    assert page.url.startswith(base_url + next_path.split("#")[0]), page.url
    assert page.get_by_role("button", name="Afmelden").count() == 1
