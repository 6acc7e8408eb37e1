"""Public pages: Meest recent and the article page."""

from __future__ import annotations

import hashlib
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from flask import (
    Blueprint,
    current_app,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from articles import services as articles
from comments.services import posting_block, recently_deleted, unverified_block
from comments.threads import (
    SORT_WORDS,
    WORD_OF_SORT,
    authors_pending,
    node_ids,
    parse_sort,
    published_threads,
    reacted_ids,
    thread_filter,
    thread_highlights,
)
from db import get_session
from forms.comments import ArticleForms
from live import pacing as live
from models import Appeal, Article, Comment, ThreadSort, utcnow
from moderation.modes import active_mode
from parsing import page_number
from polls.badges import badge_options
from views.votes import poll_panels
from wiring import posting_policy, refresh_hint

bp = Blueprint("pages", __name__)
HEADLINES = 25


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    """Browsers ask for /favicon.ico whatever the page links: the SVG icon, cached a day."""
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.svg",
        mimetype="image/svg+xml",
        max_age=86400,
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """Meest recent: the latest headlines with their tallies."""
    session = get_session()
    latest = (
        select(Article)
        .order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
        .limit(HEADLINES)
    )
    # "Meest besproken": the most commented of the latest 200 (bounded, uses the date index).
    recent_ids = (
        select(Article.id)
        .order_by(Article.published_at.desc().nulls_last())
        .limit(200)
        .scalar_subquery()
    )
    discussed = session.scalars(
        select(Article)
        .where(Article.id.in_(recent_ids), Article.comment_count > 0)
        .order_by(Article.comment_count.desc(), Article.id)
        .limit(3)
    )
    return render_template(
        "pages/index.html", headlines=list(session.scalars(latest)), discussed=list(discussed)
    )


@bp.get("/artikels/<article_id>")
def article(article_id: str) -> ResponseReturnValue:
    """An article with its polls and comments; `?live=1` is static/live.js's conditional check
    (an ETag over what the thread and the poll panels show; 304 when nothing changed)."""
    if request.args.get("live") != "1":
        return render_article(article_id)
    session = get_session()
    item = articles.article_for_page(session, article_id)
    state = SimpleNamespace(
        etag=live_etag(session, item), hint=refresh_hint(session, item.id, utcnow())
    )
    if live.etag_matches(state.etag, request.headers.get("If-None-Match", "")):
        response = make_response("", 304)
    else:
        response = make_response(render_article(article_id, live_state=state))
    response.headers["ETag"] = state.etag
    response.headers["Cache-Control"] = "private, no-cache"
    state.hint.apply(response.headers)
    response.vary.add("Cookie")
    return response


def live_etag(session: Session, item: Article) -> str:
    """The page's thread and polls for this reader, sort and page: the thread version and
    count, the polls' counters, the reader, and the mode in force (closing, match-day windows)."""
    reader = current_user.id if current_user.is_authenticated else 0
    sort = page_sort(item).value
    page = request.args.get("pagina", "1")[:6]
    mode = active_mode(session, item, posting_policy().auto_close_days)
    window = mode.window.label if mode.window is not None else ""
    shape = f"{int(mode.closed)}{int(mode.premoderated)}{mode.slow_seconds or 0}{window}"
    state = f"t{item.thread_version}-c{item.comment_count}-u{reader}-{sort}{page}-m{shape}"
    digest = hashlib.blake2b(
        f"{state}-p{live.polls_signature(session, item.id)}".encode(), digest_size=12
    ).hexdigest()
    return f'W/"live-{digest}"'


def render_article(
    article_id: str,
    forms: ArticleForms | None = None,
    status: int = 200,
    live_state: SimpleNamespace | None = None,
) -> ResponseReturnValue:
    """The article page; `forms` brings back a form that failed, with the text and its errors;
    `live_state` is the live check's ETag and interval when it computed them already."""
    session = get_session()
    item = articles.article_for_page(session, article_id)
    # static/live.js checks the same sort and page; its first check is a 304 when nothing moved.
    live_args = {k: request.args[k] for k in ("volgorde", "sort", "pagina") if k in request.args}
    return (
        render_template(
            "pages/article.html",
            polls=poll_panels(session, item),
            live_args=live_args,
            live=live_state
            or SimpleNamespace(
                etag=live_etag(session, item),
                hint=refresh_hint(session, item.id, utcnow()),
            ),
            **thread_context(item, forms),
        ),
        status,
    )


def page_sort(item: Article) -> ThreadSort:
    """The thread order a page asks for (?volgorde=nieuwste|oudste|beste, or ?sort= with an
    API value); the article's default when it names none or something unknown."""
    raw = request.args.get("volgorde") or request.args.get("sort")
    return parse_sort(raw, item.default_sort) or item.default_sort


def thread_context(item: Article, forms: ArticleForms | None = None) -> dict[str, Any]:
    """What pages/_thread.html needs for one article: the page's thread, the reader's own
    pending comments, the mode's notices; shared by the article page and the comments embed."""
    session = get_session()
    own_pending: list[Comment] = []
    appeals: dict[int, Appeal] = {}
    now = utcnow()
    block = None
    deleted: list[tuple[Comment, datetime]] = []
    if current_user.is_authenticated:
        own_pending, appeals = authors_pending(session, item, current_user.id)
        deleted = recently_deleted(session, item.id, current_user, posting_policy(), now)
        # A suspended fan sees why and until when instead of forms that would refuse them.
        block = posting_block(current_user, now) or unverified_block(current_user, posting_policy())
    mode = active_mode(session, item, posting_policy().auto_close_days)
    sort = page_sort(item)
    page = page_number(request.args.get("pagina"))
    only = thread_filter(session, item, request.args.get("filter"), request.args.get("stemde"))
    highlights = thread_highlights(session, item)
    thread_page = published_threads(
        session,
        item,
        page=page,
        sort=sort,
        now=now,
        only=only,
        also_badge=highlights.nodes(),
    )
    reacted: set[int] = set()
    if current_user.is_authenticated:
        reacted = reacted_ids(
            session, current_user.id, node_ids([*thread_page.threads, *highlights.nodes()])
        )
    return {
        "article": item,
        "thread_page": thread_page,
        "sort_word": WORD_OF_SORT[sort],
        "sort_words": list(SORT_WORDS),
        "reacted": reacted,
        "thread_filter": only,
        # What the sort and pager links keep of the filter.
        "thread_args": {
            key: value
            for key, value in (
                ("filter", "uitgelicht" if only.featured else None),
                ("stemde", only.voted_option_id),
            )
            if value
        },
        "highlights": highlights,
        "badge_options": badge_options(session, item.id),
        "own_pending": own_pending,
        "appeals": appeals,
        "mode": mode,
        "forms": forms or ArticleForms(),
        "edit_window": posting_policy().edit_window_seconds,
        "now": now,
        "suspension": block,
        "recently_deleted": deleted,
    }
