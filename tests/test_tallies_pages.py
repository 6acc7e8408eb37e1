"""Tallies in HTML: Dutch plurals, the headline macro on "/", and counts.js in a browser."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Article
from views.templating import count_nl

TALLY = re.compile(r'<span class="tribune-tally[^"]*" data-tribune-tally="([^"]+)"[^>]*>([^<]*)<')


@pytest.fixture(autouse=True)
def own_redis_prefix(app_settings: dict) -> None:
    app_settings["TRIBUNE_REDIS_PREFIX"] = "tribune-test-" + uuid.uuid4().hex[:8]


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "nog geen reacties"), (1, "1 reactie"), (2, "2 reacties"), (5, "5 reacties")],
)
def test_count_nl_comments(count: int, text: str) -> None:
    assert count_nl(count, "reactie", "reacties", "nog geen reacties") == text


@pytest.mark.parametrize(
    ("comments", "votes", "show", "text"),
    [
        (0, 0, "both", "nog geen reacties"),
        (1, 0, "both", "1 reactie"),
        (5, 0, "both", "5 reacties"),
        (0, 1, "both", "nog geen reacties · 1 stem"),
        (1, 5, "both", "1 reactie · 5 stemmen"),
        (12, 340, "comments", "12 reacties"),
        (12, 0, "votes", "nog geen stemmen"),
        (12, 1, "votes", "1 stem"),
        (12, 340, "votes", "340 stemmen"),
    ],
)
def test_tally_macro_plurals(app: Flask, comments: int, votes: int, show: str, text: str) -> None:
    with app.test_request_context():
        html = render_template_string(
            '{% from "tallies/_macros.html" import tally %}{{ tally("a-1", c, v, s) }}',
            c=comments,
            v=votes,
            s=show,
        )
    assert TALLY.search(html).groups() == ("a-1", text)
    assert f'data-comments="{comments}"' in html and f'data-votes="{votes}"' in html


def test_headline_macro_escapes_titles(app: Flask) -> None:
    article = Article(cms_id="x", title="<b>Club</b> & co", teaser="<i>t</i>")
    article.comment_count, article.vote_count = 1, 0
    with app.test_request_context():
        html = render_template_string(
            '{% from "tallies/_macros.html" import headline_list %}{{ headline_list(items) }}',
            items=[article],
        )
    assert "&lt;b&gt;Club&lt;/b&gt; &amp; co" in html and "&lt;i&gt;t&lt;/i&gt;" in html
    assert TALLY.search(html).groups() == ("x", "1 reactie")


@pytest.fixture
def seeded(app: Flask, db: Session) -> list[dict[str, str]]:
    from demo.seed import read_headlines, seed_demo, slugify
    from tests.conftest import CHEAP_HASH

    seed_demo(db, CHEAP_HASH)
    db.commit()
    return [{**row, "cms_id": slugify(row["headline"])} for row in read_headlines()]


def test_index_renders_the_25_seed_headlines_with_tallies(
    client: FlaskClient, db: Session, seeded: list[dict[str, str]]
) -> None:
    from markupsafe import escape

    first, second = seeded[0]["cms_id"], seeded[1]["cms_id"]
    db.execute(
        update(Article).where(Article.cms_id == first).values(comment_count=155, vote_count=1)
    )
    db.execute(update(Article).where(Article.cms_id == second).values(comment_count=1))
    third = seeded[2]["cms_id"]
    db.execute(update(Article).where(Article.cms_id == third).values(comment_count=0))
    db.commit()

    html = client.get("/").get_data(as_text=True)
    assert len(seeded) == 25
    listed = html[html.index("<h1>Meest recent</h1>") :]
    tallies = TALLY.findall(listed)
    # The 25 headlines, newest first, each with its tally filled in by the server.
    assert [cms_id for cms_id, _ in tallies] == [row["cms_id"] for row in seeded]
    for row in seeded:
        assert str(escape(row["headline"].strip())) in listed
        assert str(escape(row["teaser"].strip())) in listed
    texts = dict(tallies)
    assert texts[first] == "155 reacties · 1 stem"
    assert texts[second] == "1 reactie"
    assert texts[third] == "nog geen reacties"
    # No comments yet is quiet grey (tally-zero), not the red of a count.
    classes = dict(
        (cms_id, cls.split())
        for cls, cms_id in re.findall(r'<span class="([^"]*)" data-tribune-tally="([^"]+)"', listed)
    )
    assert "tally-zero" in classes[third]
    assert "tally-zero" not in classes[first] and "tally-zero" not in classes[second]
    # The demo seeds every other headline with the count its seed page shows (and a poll's
    # votes under a few of them).
    assert [texts[row["cms_id"]].split(" · ")[0] for row in seeded[3:]] == [
        f"{row['comments_shown']} reacties" for row in seeded[3:]
    ]
    # Meest besproken stays, and counts.js is loaded to refresh the numbers.
    assert "Meest besproken" in html
    assert "/static/counts.js" in html


def test_counts_js_is_served(client: FlaskClient) -> None:
    response = client.get("/static/counts.js")
    assert response.status_code == 200
    script = response.get_data(as_text=True)
    assert "data-tribune-tally" in script and "MutationObserver" in script
    assert len(script) < 8000  # small, no framework
    response.close()


# ---------------------------------------------------------------- counts.js in Chromium

PAGE = """<!doctype html><html><body>
<ol id="list">
  <li><span data-tribune-tally="b"></span></li>
  <li><span data-tribune-tally="a"></span></li>
  <li><span data-tribune-tally="a" data-tribune-show="votes"></span></li>
  <li><span data-tribune-tally="nieuw"></span></li>
</ol>
<script src="https://tribune.test/static/counts.js" data-tribune-new></script>
</body></html>"""


@pytest.fixture
def browser_page(playwright_driver):  # type: ignore[no-untyped-def]
    from tests.conftest import CHROMIUM, CHROMIUM_ARGS

    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    page = browser.new_page()
    yield page
    browser.close()


@pytest.mark.browser
def test_counts_js_fills_batches_observes_and_counts_new(
    app_settings: dict, browser_page, client: FlaskClient, db: Session, make_article
) -> None:
    """The real counts.js against the real endpoint (served through the Flask test client)."""
    page = browser_page
    for cms_id in ("a", "b", "nieuw"):
        make_article(cms_id)
    db.execute(update(Article).where(Article.cms_id == "a").values(comment_count=1, vote_count=5))
    db.execute(update(Article).where(Article.cms_id == "b").values(comment_count=5))
    db.commit()
    requests: list[str] = []

    def serve(route) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(route.request.url)
        if url.path == "/page.html":
            route.fulfill(status=200, content_type="text/html", body=PAGE)
            return
        requests.append(url.path + "?" + url.query)
        response = client.get(url.path + ("?" + url.query if url.query else ""))
        route.fulfill(
            status=response.status_code,
            headers={k: v for k, v in response.headers.items() if k != "Content-Length"},
            body=response.get_data(),
        )
        response.close()

    page.route("https://tribune.test/**", serve)
    page.goto("https://tribune.test/page.html")
    page.wait_for_selector("[data-tribune-tally='nieuw'][data-tribune-filled]")

    def texts() -> list[str]:
        return page.eval_on_selector_all(
            "[data-tribune-tally]", "els => els.map(e => e.textContent)"
        )

    assert texts() == ["5 reacties", "1 reactie · 5 stemmen", "5 stemmen", "nog geen reacties"]
    tally_requests = [r for r in requests if r.startswith("/api/v1/tallies")]
    # One request, ids sorted and deduplicated; the script's own origin is the API base.
    assert tally_requests == ["/api/v1/tallies?ids=a,b,nieuw"]

    # Headlines added later (infinite scroll): picked up with one more request.
    page.evaluate(
        """() => { const li = document.createElement('li');
        li.innerHTML = '<span data-tribune-tally="c"></span><span data-tribune-tally="b"></span>';
        document.getElementById('list').appendChild(li); }"""
    )
    page.wait_for_selector("[data-tribune-tally='c'][data-tribune-filled]")
    assert [r for r in requests if r.startswith("/api/v1/tallies")][1:] == [
        "/api/v1/tallies?ids=b,c"
    ]

    # A new comment, then reload(): fresh numbers and "+N nieuw" since the last visit.
    db.execute(update(Article).where(Article.cms_id == "b").values(comment_count=7))
    db.commit()
    app_cache = client.application.extensions.get("tribune.tally_cache")
    if hasattr(app_cache, "clear"):
        app_cache.clear()
    page.reload()
    page.wait_for_selector("[data-tribune-tally='nieuw'][data-tribune-filled]")
    first_b = page.text_content("[data-tribune-tally='b']")
    assert first_b == "7 reacties +2 nieuw"
    page.evaluate("() => window.TribuneCounts.reload()")
    page.wait_for_timeout(100)
    assert page.text_content("[data-tribune-tally='a']") == "1 reactie · 5 stemmen"
    assert db.scalar(select(Article.comment_count).where(Article.cms_id == "b")) == 7


@pytest.mark.browser
def test_counts_js_chunks_by_100(browser_page, client: FlaskClient) -> None:
    page = browser_page
    requests: list[str] = []
    spans = "".join(f'<span data-tribune-tally="id{n:03d}"></span>' for n in range(250))
    html = (
        f'<!doctype html><body>{spans}<script src="https://tribune.test/static/counts.js"></script>'
    )

    def serve(route) -> None:  # type: ignore[no-untyped-def]
        url = urlsplit(route.request.url)
        if url.path == "/page.html":
            route.fulfill(status=200, content_type="text/html", body=html)
            return
        requests.append(url.query)
        response = client.get(url.path + ("?" + url.query if url.query else ""))
        route.fulfill(
            status=response.status_code,
            body=response.get_data(),
            headers={"Content-Type": response.content_type},
        )
        response.close()

    page.route("https://tribune.test/**", serve)
    page.goto("https://tribune.test/page.html")
    page.wait_for_selector("[data-tribune-tally='id249'][data-tribune-filled]")
    counts = sorted(len(q.removeprefix("ids=").split(",")) for q in requests if q)
    assert counts == [50, 100, 100]
    assert page.text_content("[data-tribune-tally='id000']") == "nog geen reacties"
