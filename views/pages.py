"""Public pages: Meest recent and the article page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, send_from_directory
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from articles import services as articles
from comments.services import posting_block, recently_deleted, unverified_block
from comments.threads import authors_pending, published_threads, thread_filter, thread_highlights
from db import get_session
from forms.comments import ArticleForms
from models import Appeal, Article, Comment, utcnow
from moderation.modes import active_mode
from parsing import page_number
from polls.badges import badge_options
from views.votes import poll_panels
from wiring import posting_policy

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
    """An article with its polls and comments."""
    return render_article(article_id)


def render_article(
    article_id: str, forms: ArticleForms | None = None, status: int = 200
) -> ResponseReturnValue:
    """The article page; `forms` brings back a form that failed, with the text and its errors."""
    session = get_session()
    item = articles.article_for_page(session, article_id)
    return (
        render_template(
            "pages/article.html",
            polls=poll_panels(session, item),
            **thread_context(item, forms),
        ),
        status,
    )


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
    newest_first = request.args.get("volgorde", "nieuwste") != "oudste"
    page = page_number(request.args.get("pagina"))
    only = thread_filter(session, item, request.args.get("filter"), request.args.get("stemde"))
    highlights = thread_highlights(session, item)
    return {
        "article": item,
        "thread_page": published_threads(
            session,
            item,
            page=page,
            newest_first=newest_first,
            only=only,
            also_badge=highlights.nodes(),
        ),
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
        "newest_first": newest_first,
        "own_pending": own_pending,
        "appeals": appeals,
        "mode": mode,
        "forms": forms or ArticleForms(),
        "edit_window": posting_policy().edit_window_seconds,
        "now": now,
        "suspension": block,
        "recently_deleted": deleted,
    }
