"""The comments embed in a browser, side by side with Isso's: time to 50 comments, bytes.

Isso 0.14 (the peer's server script isso_server.sh, $ISSO_SERVER: gunicorn -w 2, a 50-comment
thread at /a/1) and Tribune (gunicorn -w 2, a fresh SQLite file, an article with 50 published
comments) each serve their embed to a host page on a third origin (http://localhost:PORT, a
small threaded server in this script; both servers listen on 127.0.0.1, so the embed is
cross-site for the browser). Each host page is loaded --rounds times (default 10), alternating
Isso then Tribune, in headless Chromium (Debian's /usr/bin/chromium through Playwright,
third-party cookies blocked), each load in a fresh browser context (cold cache, no cookies).

Per load:
  time   from the host page's navigation start until the 50th comment is in the DOM: Isso's
         `.isso-comment` elements in the page; Tribune's `li.comment` (the markup of
         templates/pages/_comment.html, the same as on /artikels/<id>) inside the embed's
         shadow root on the host page. An init script in every frame stamps the moment with
         performance.timeOrigin + performance.now() (a frame's own clock is brought onto the
         host page's timeline: the --floor iframe); it wraps Element.prototype.attachShadow to
         observe every new shadow root too (a document observer does not see into one).
  bytes  the response bodies from the embed's origin (Isso's or Tribune's) whose requests
         started before that moment: as sent (neither server compresses under gunicorn) and
         gzipped here at level 6, what a compressing proxy would send (a body that arrives
         compressed counts as sent).
Prints every load, the medians, and the two goals side by side: Tribune's bytes <= half of
Isso's, Tribune's time <= half of Isso's.

Usage: .venv/bin/python bench/embed_bench.py [--rounds 10] [--isso PATH] [--isso-only]
(details and the latest figures: bench/embed_bench.md)
Loopback only; each load is bounded in time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TRIBUNE_PORT = 8196
ISSO_PORT = 8197
HOST_PORT = 8198
FLOOR_PORT = 8199
FLOOR_FRAME_PATH = "/frame.html"
COMMENTS = 50
ARTICLE = "bench-embed"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--test-third-party-cookie-phaseout",
]
LOAD_TIMEOUT_MS = 15_000
ROOTS = 10  # the default thread: 10 comments with 4 replies each (see thread_plan)
# What counts as one comment in each embed.
ISSO_SELECTOR = ".isso-comment"
TRIBUNE_SELECTOR = "li.comment"
TRIBUNE_THREAD_PATH = "/embed/comments/"

# Runs in every frame before its own scripts: stamps the moment the frame holds the 50th
# comment, on the wall clock (timeOrigin + now) so frames of other processes compare.
# A document MutationObserver does not see into shadow roots, so (bench-only instrumentation)
# Element.prototype.attachShadow is wrapped: every new root is observed and counted too
# (Tribune's comments embed renders into an open shadow root of the host page).
DONE_STAMP = """
(() => {
  const selector = %r, wanted = %d;
  const roots = [document];
  const observers = [];
  const count = () => roots.reduce((n, root) => n + root.querySelectorAll(selector).length, 0);
  const check = () => {
    if (window.__benchDone) return true;
    if (count() >= wanted) {
      window.__benchDone = performance.timeOrigin + performance.now();
      observers.forEach((o) => o.disconnect());
      return true;
    }
    return false;
  };
  const watch = (root) => {
    const observer = new MutationObserver(check);
    observers.push(observer);
    observer.observe(root, { childList: true, subtree: true });
  };
  const attach = Element.prototype.attachShadow;
  Element.prototype.attachShadow = function (init) {
    const root = attach.call(this, init);
    roots.push(root);
    if (!window.__benchDone) watch(root);
    return root;
  };
  watch(document);
})();
"""


def thread_plan(flat: bool) -> list[int | None]:
    """For comment i (0-based), the index of the comment it answers, or None for a root.

    Default: 10 roots with 4 replies each, so both embeds show all 50 on their first screen
    (Tribune's thread, like /artikels/<id>, shows 20 top-level threads per page with all their
    replies; Isso shows 5 replies per comment before "show more"). --flat: 50 roots (Isso's
    /a/1 of isso_server.sh; Tribune then shows its first 20 and never reaches 50 without
    "meer laden").
    """
    if flat:
        return [None] * COMMENTS
    per_root = COMMENTS // ROOTS
    return [None if i % per_root == 0 else i - i % per_root for i in range(COMMENTS)]


def comment_text(i: int) -> str:
    """The same words on both servers (isso_server.sh's text)."""
    return f"Reactie nummer {i + 1} over Defour en KV Mechelen, een zin van gemiddelde lengte."


def find_isso_server() -> Path:
    """$ISSO_SERVER, else the benchmark machine's shared bench directory above the checkout."""
    if os.environ.get("ISSO_SERVER"):
        return Path(os.environ["ISSO_SERVER"])
    for parent in ROOT.parents:
        candidate = parent / "shared" / "bench" / "isso_server.sh"
        if candidate.exists():
            return candidate
    return ROOT.parent / "shared" / "bench" / "isso_server.sh"


@dataclass
class Load:
    ms: float
    sent: int
    gzipped: int
    requests: list[tuple[str, int, int]] = field(default_factory=list)  # path, sent, gzipped


@dataclass
class Peer:
    name: str
    origin: str  # the embed's server
    host_url: str  # the host page that embeds it
    selector: str
    frame_path: str | None = None  # the comments are inside an iframe of this path
    loads: list[Load] = field(default_factory=list)


# ---------------------------------------------------------------- host pages


def host_pages(host_origin: str, isso_uri: str) -> dict[str, bytes]:
    isso = f"http://127.0.0.1:{ISSO_PORT}"
    tribune = f"http://127.0.0.1:{TRIBUNE_PORT}"
    page = (
        '<!doctype html><html lang="nl-BE"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title}</title></head><body><h1>Defour volgend jaar nog bij KV Mechelen?</h1>"
        "<p>Een artikel van een nieuwssite met de reacties eronder.</p>{embed}</body></html>"
    )
    return {
        "/isso.html": page.format(
            title="Isso",
            embed=f'<script data-isso="{isso}/" src="{isso}/js/embed.min.js"></script>'
            f'<section id="isso-thread" data-isso-id="{isso_uri}"></section>',
        ).encode(),
        "/floor.html": page.format(
            title="Floor",
            embed=f'<div data-floor></div><script src="http://127.0.0.1:{FLOOR_PORT}/floor.js" '
            "async></script>",
        ).encode(),
        "/shadow.html": page.format(
            title="Shadow floor",
            embed=f'<div data-floor-shadow></div><script src="http://127.0.0.1:{FLOOR_PORT}/'
            'shadow.js" async></script>',
        ).encode(),
        "/tribune.html": page.format(
            title="Tribune",
            embed=f'<div data-tribune-comments="{ARTICLE}" data-title="Artikel" '
            f'data-url="{host_origin}/tribune.html"></div>'
            f'<script src="{tribune}/static/comments.js" async></script>',
        ).encode(),
    }


def floor_pages() -> dict[str, bytes]:
    """The floor of any iframe embed: a 0.2 KB loader and a static page of 50 `li.comment`."""
    origin = f"http://127.0.0.1:{FLOOR_PORT}"
    items = "".join(
        f'<li class="comment"><p><strong>fan{i + 1}</strong></p><p>{comment_text(i)}</p></li>'
        for i in range(COMMENTS)
    )
    return {
        "/floor.js": (
            "(function(){var d=document.querySelector('[data-floor]');"
            "var f=document.createElement('iframe');"
            f"f.src='{origin}{FLOOR_FRAME_PATH}';f.style.width='100%';d.appendChild(f);}})();"
        ).encode(),
        FLOOR_FRAME_PATH: (
            f'<!doctype html><html lang="nl-BE"><meta charset="utf-8"><ol>{items}</ol>'
        ).encode(),
        # The floor of a Shadow DOM embed: fetch the same 50 comments across origins and put
        # them in a shadow root of the host page (no frame, no second document or process).
        "/shadow.js": (
            "(function(){var d=document.querySelector('[data-floor-shadow]');"
            f"fetch('{origin}/fragment.html').then(function(r){{return r.text();}})"
            ".then(function(h){var root=d.attachShadow({mode:'open'});root.innerHTML=h;"
            "window.__benchDone=performance.timeOrigin+performance.now();});})();"
        ).encode(),
        "/fragment.html": f"<ol>{items}</ol>".encode(),
    }


def serve_pages(pages: dict[str, bytes], port: int) -> ThreadingHTTPServer:
    """A small static server on 127.0.0.1:`port` (the host pages, the floor)."""

    class Host(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = pages.get(self.path)
            kind = "text/javascript" if self.path.endswith(".js") else "text/html; charset=utf-8"
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Access-Control-Allow-Origin", "*")  # the shadow floor's fetch
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Host)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


# ---------------------------------------------------------------- servers


def start_isso(script: Path, host_origin: str) -> subprocess.Popen[str]:
    print(f"== Isso 0.14 ({script}) ==", flush=True)
    server = subprocess.Popen(
        ["bash", str(script), str(ISSO_PORT), host_origin],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert server.stdout is not None
    deadline = time.time() + 300  # the first run installs Isso into its venv
    for line in server.stdout:
        if line.startswith("ready "):
            print("  " + line.strip())
            return server
        if time.time() > deadline:
            break
    stop(server)
    raise SystemExit(f"Isso did not start: {script} printed no 'ready' line")


def seed_isso_thread(host_origin: str, uri: str, plan: list[int | None]) -> None:
    """The thread of `plan` at `uri` through Isso's own API (no moderation, no guard)."""
    ids: list[int] = []
    for i, parent in enumerate(plan):
        body: dict[str, object] = {"text": comment_text(i), "author": f"fan{i + 1}"}
        if i == 0:
            body["title"] = "Artikel"  # else Isso fetches the host page to find one
        if parent is not None:
            body["parent"] = ids[parent]
        request = urllib.request.Request(
            f"http://127.0.0.1:{ISSO_PORT}/new?uri={uri}",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Origin": host_origin},
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            ids.append(int(json.load(answer)["id"]))


def seed_tribune(database_url: str, plan: list[int | None]) -> None:
    """Fresh schema, 50 fans, one article with the 50 published comments of `plan`."""
    from sqlalchemy import insert
    from werkzeug.security import generate_password_hash

    from app import create_app
    from db import session_scope
    from migrations import upgrade_database
    from models import Article, Comment, CommentState, User
    from tallies.recount import recount

    upgrade_database(database_url)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-secret"})
    password_hash = generate_password_hash("bench-password-123")
    with session_scope(app) as session:
        session.execute(
            insert(User),
            [
                {
                    "username": f"fan{i}",
                    "username_key": f"fan{i}",
                    "email": f"fan{i}@bench.test",
                    "password_hash": password_hash,
                    "created_at": datetime(2025, 1, 1, tzinfo=UTC),
                }
                for i in range(1, COMMENTS + 1)
            ],
        )
        article = Article(cms_id=ARTICLE, title="Defour volgend jaar nog bij KV Mechelen?")
        session.add(article)
        session.flush()
        rows: list[Comment] = []
        for i, parent_index in enumerate(plan):
            parent = rows[parent_index] if parent_index is not None else None
            comment = Comment(
                article_id=article.id,
                author_id=i + 1,
                parent_id=parent.id if parent else None,
                root_id=(parent.root_id or parent.id) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                body=comment_text(i),
                state=CommentState.PUBLISHED,
            )
            session.add(comment)
            session.flush()
            rows.append(comment)
        session.flush()
        recount(session)
    app.extensions["tribune.engine"].dispose()


def start_tribune(
    database_url: str, host_origin: str, redis_url: str | None
) -> subprocess.Popen[str]:
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        SECRET_KEY="bench-secret",
        EMBED_ALLOWED_ORIGINS=host_origin,
        TRIBUNE_PUBLIC_URL=f"http://127.0.0.1:{TRIBUNE_PORT}",
        # A prefix of its own per run: a fresh database reuses thread versions, so cached
        # threads of an earlier run must not answer.
        TRIBUNE_REDIS_PREFIX=f"embedbench-{uuid.uuid4().hex[:8]}",
    )
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{TRIBUNE_PORT}",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
        text=True,
        start_new_session=True,
    )
    wait_for(f"http://127.0.0.1:{TRIBUNE_PORT}/api/v1/articles/{ARTICLE}", server)
    return server


def wait_for(url: str, server: subprocess.Popen[str], timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server for {url} exited ({server.returncode})")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except (OSError, urllib.error.URLError):
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def stop(server: subprocess.Popen[str]) -> None:
    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass


def check_tribune_embed() -> None:
    """Fail clearly when this checkout has no comments embed to measure."""
    base = f"http://127.0.0.1:{TRIBUNE_PORT}"
    for path in ("/static/comments.js", f"{TRIBUNE_THREAD_PATH}{ARTICLE}"):
        try:
            urllib.request.urlopen(base + path, timeout=5).read()
        except urllib.error.HTTPError as error:
            raise SystemExit(
                f"Tribune has no comments embed here: GET {path} answered {error.code} "
                "(issue 16's embed, static/comments.js and /embed/comments/<id>, is not in this "
                "checkout). Run with --isso-only for Isso's half."
            ) from None


# ---------------------------------------------------------------- one load


def load_once(browser: Any, peer: Peer) -> Load:
    """One cold load of the host page; the time to 50 comments and the bytes before it."""
    context = browser.new_context()
    context.add_init_script(DONE_STAMP % (peer.selector, COMMENTS))
    page = context.new_page()
    issued: list[Any] = []
    page.on("request", lambda request: issued.append(request))
    try:
        page.goto(peer.host_url, wait_until="commit")
        done, frame = wait_done(page, peer)
        start = page.evaluate("performance.timeOrigin")
        # The host page's load event waits for its iframes and their subresources: by then
        # every request the parsers started before `done` has its answer.
        page.wait_for_load_state("load", timeout=LOAD_TIMEOUT_MS)
        sent = gzipped = 0
        names = []
        for request in issued:
            if not request.url.startswith(peer.origin + "/"):
                continue
            response = request.response()  # waits for the answer's headers
            if response is None:
                continue
            response.finished()  # and for its body; the timing is complete after this
            if request.timing["startTime"] > done:
                continue  # after the 50th comment (a poll for news, an avatar …)
            body = response.body()
            size = request.sizes()["responseBodySize"]
            encoded = response.header_value("content-encoding")
            packed = size if encoded else len(gzip.compress(body, 6))
            sent += size
            gzipped += packed
            parts = urlsplit(request.url)
            names.append((parts.path + (f"?{parts.query}" if parts.query else ""), size, packed))
        return Load(done - start, sent, gzipped, names)
    finally:
        context.close()


def wait_done(page: Any, peer: Peer) -> tuple[float, Any]:
    """The stamp of the 50th comment, from the page (Isso) or the embed's iframe (Tribune)."""
    deadline = time.time() + LOAD_TIMEOUT_MS / 1000
    while time.time() < deadline:
        frames = [page.main_frame]
        if peer.frame_path:
            frames = [f for f in page.frames if peer.frame_path in f.url]
        for frame in frames:
            try:
                stamp = frame.evaluate("window.__benchDone || 0")
            except Exception:  # a frame navigating away between the listing and the call
                continue
            if stamp:
                return float(stamp), frame
        page.wait_for_timeout(10)
    found = describe_failure(page, peer)
    raise SystemExit(f"{peer.name}: no {COMMENTS} comments within {LOAD_TIMEOUT_MS} ms ({found})")


def describe_failure(page: Any, peer: Peer) -> str:
    if peer.frame_path:
        frames = [f for f in page.frames if peer.frame_path in f.url]
        if not frames:
            return (
                f"no iframe of {peer.frame_path}… on the host page: is the comments embed "
                "(static/comments.js) in this checkout?"
            )
        count = frames[0].locator(peer.selector).count()
        return f"the embed's iframe shows {count} × {peer.selector}"
    return f"the page shows {page.locator(peer.selector).count()} × {peer.selector}"


# ---------------------------------------------------------------- report


def summary(peer: Peer) -> tuple[float, float, float]:
    """Median time, bytes sent and bytes gzipped over the peer's loads."""
    return (
        statistics.median(load.ms for load in peer.loads),
        statistics.median(load.sent for load in peer.loads),
        statistics.median(load.gzipped for load in peer.loads),
    )


def kb(value: float) -> str:
    return f"{value / 1024:.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10, help="loads of each embed")
    parser.add_argument("--isso", default=str(find_isso_server()), help="isso_server.sh")
    parser.add_argument("--isso-only", action="store_true", help="measure Isso's embed only")
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also load a bare iframe of 50 static comments (the floor of any iframe embed) and "
        "the same comments fetched into a shadow root (the floor of a Shadow DOM embed)",
    )
    parser.add_argument(
        "--no-site-isolation",
        action="store_true",
        help="cross-site iframes in the page's own renderer, as Chrome on Android does for sites "
        "without logins (and no debugger pause when Playwright attaches to a new frame process)",
    )
    parser.add_argument(
        "--flat", action="store_true", help="50 top-level comments instead of 10 with 4 replies"
    )
    parser.add_argument(
        "--redis", default=os.environ.get("REDIS_URL"), help="Tribune's REDIS_URL (default none)"
    )
    args = parser.parse_args()
    script = Path(args.isso)
    if not script.exists():
        print(f"Isso's server script not found at {script} (--isso or $ISSO_SERVER)")
        return 2
    if not os.access(CHROMIUM, os.X_OK):
        print(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
        return 2
    from playwright.sync_api import sync_playwright

    host_origin = f"http://localhost:{HOST_PORT}"
    plan = thread_plan(args.flat)
    isso_uri = "/a/1" if args.flat else "/a/2"  # /a/1: isso_server.sh's 50 flat comments
    statics = [serve_pages(host_pages(host_origin, isso_uri), HOST_PORT)]
    if args.floor:
        statics.append(serve_pages(floor_pages(), FLOOR_PORT))
    peers = [
        Peer("isso", f"http://127.0.0.1:{ISSO_PORT}", f"{host_origin}/isso.html", ISSO_SELECTOR)
    ]
    servers: list[subprocess.Popen[str]] = []
    try:
        servers.append(start_isso(script, host_origin))
        if not args.flat:
            seed_isso_thread(host_origin, isso_uri, plan)
        if not args.isso_only:
            work = Path(tempfile.mkdtemp(prefix="tribune-embed-bench-"))
            database_url = f"sqlite:///{work / 'bench.db'}"
            seed_tribune(database_url, plan)
            servers.append(start_tribune(database_url, host_origin, args.redis))
            check_tribune_embed()
            peers.append(
                Peer(
                    "tribune",
                    f"http://127.0.0.1:{TRIBUNE_PORT}",
                    f"{host_origin}/tribune.html",
                    TRIBUNE_SELECTOR,  # in the host page's shadow root: no frame_path
                )
            )
        if args.floor:
            peers.append(
                Peer(
                    "floor",
                    f"http://127.0.0.1:{FLOOR_PORT}",
                    f"{host_origin}/floor.html",
                    TRIBUNE_SELECTOR,
                    FLOOR_FRAME_PATH,
                )
            )
            # Its script stamps the moment itself: a document observer does not see into a
            # shadow root.
            peers.append(
                Peer(
                    "shadow",
                    f"http://127.0.0.1:{FLOOR_PORT}",
                    f"{host_origin}/shadow.html",
                    TRIBUNE_SELECTOR,
                )
            )
        with sync_playwright() as driver:
            browser = driver.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS
                + (["--disable-site-isolation-trials"] if args.no_site_isolation else []),
            )
            for peer in peers:
                load_once(browser, peer)  # warm the servers (and Isso's first-run caches)
            for number in range(1, max(1, args.rounds) + 1):
                for peer in peers:
                    load = load_once(browser, peer)
                    peer.loads.append(load)
                    print(
                        f"round {number:>2} {peer.name:<7} {load.ms:7.1f} ms to {COMMENTS} "
                        f"comments, {kb(load.sent)} sent, {kb(load.gzipped)} gzipped, "
                        f"{len(load.requests)} requests",
                        flush=True,
                    )
            browser.close()
    finally:
        for server in servers:
            stop(server)
        for static in statics:
            static.shutdown()

    print(f"== medians over {args.rounds} loads each ==")
    results = {peer.name: summary(peer) for peer in peers}
    for peer in peers:
        ms, sent, gzipped = results[peer.name]
        times = [load.ms for load in peer.loads]
        print(
            f"{peer.name:<7} {ms:7.1f} ms (min {min(times):.1f}, max {max(times):.1f})  "
            f"{kb(sent)} sent  {kb(gzipped)} gzipped"
        )
        for path, size, packed in peer.loads[-1].requests:
            print(f"  {path[:60]:<60} {kb(size):>9} sent {kb(packed):>9} gzipped")
    if "floor" in results:
        share = results["floor"][0] / results["isso"][0]
        print(f"floor: a bare cross-site iframe takes {share:.2f} of Isso's time in this run")
        share = results["shadow"][0] / results["isso"][0]
        print(f"shadow: 50 comments fetched into a shadow root take {share:.2f} of Isso's time")
    if "tribune" in results:
        isso, tribune = results["isso"], results["tribune"]
        print("goal                       isso        tribune     ratio   met")
        for label, index, unit in (("time to 50 comments", 0, "ms"), ("bytes (gzipped)", 2, "")):
            a, b = isso[index], tribune[index]
            shown = (f"{a:.1f} ms", f"{b:.1f} ms") if unit else (kb(a), kb(b))
            met = "yes" if b <= a / 2 else "NO"
            print(f"{label + ' <= half':<26} {shown[0]:<11} {shown[1]:<11} {b / a:5.2f}   {met}")
    else:
        print("Tribune not measured (--isso-only)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
