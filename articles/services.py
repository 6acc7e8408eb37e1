"""Register and look up articles by the CMS's id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from caching import touch_article
from errors import Invalid, NotFound
from models import ARTICLE_ID_PATTERN, Article, CommentMode, ThreadSort, User
from moderation.audit import record_action

_ARTICLE_ID_RE = re.compile(ARTICLE_ID_PATTERN)


def validate_article_id(article_id: str) -> str:
    """The CMS id format: 1–64 of A–Z, a–z, 0–9, _ and - (no commas: tallies use them)."""
    if not _ARTICLE_ID_RE.fullmatch(article_id):
        raise Invalid(
            "invalid_article_id",
            "Een artikel-id heeft 1 tot 64 tekens: letters, cijfers, _ of -.",
            details={"article_id": article_id[:80]},
        )
    return article_id


@dataclass(frozen=True)
class ArticleFields:
    title: str
    url: str | None = None
    teaser: str | None = None
    body: str | None = None
    published_at: datetime | None = None
    comment_mode: CommentMode | None = None


def article_not_found() -> NotFound:
    """The one 404 for an article id that names no article."""
    return NotFound("article_not_found", "Dit artikel bestaat niet.")


def get_article(session: Session, article_id: str) -> Article:
    """The article with this CMS id, or 404."""
    article = session.scalar(select(Article).where(Article.cms_id == article_id))
    if article is None:
        raise article_not_found()
    return article


def article_for_page(session: Session, article_id: str) -> Article:
    """For pages under /artikels/<id>: a malformed id is an article that does not exist."""
    try:
        validate_article_id(article_id)
    except Invalid:
        raise article_not_found() from None
    return get_article(session, article_id)


def register_article(
    session: Session, article_id: str, fields: ArticleFields, actor: User | None
) -> tuple[Article, bool]:
    """Create or update an article; returns it and whether it is new."""
    validate_article_id(article_id)
    article = session.scalar(select(Article).where(Article.cms_id == article_id))
    created = article is None
    if article is None:
        article = Article(cms_id=article_id, title=fields.title)
        session.add(article)
    old_mode = None if created else article.comment_mode
    article.title = fields.title
    article.url = fields.url
    article.teaser = fields.teaser
    if fields.body is not None:
        article.body = fields.body
    article.published_at = fields.published_at
    if fields.comment_mode is not None:
        article.comment_mode = fields.comment_mode
    elif created:
        article.comment_mode = CommentMode.OPEN
    session.flush()
    record_action(
        session,
        actor,
        "article",
        article_id,
        "register_article" if created else "update_article",
        old_mode.value if old_mode else None,
        article.comment_mode.value,
    )
    return article, created


def set_comment_mode(
    session: Session, article_id: str, mode: CommentMode, actor: User | None
) -> Article:
    """Set an article's comment mode (open / premoderated / closed); audited when it changes."""
    article = get_article(session, article_id)
    old_mode = article.comment_mode
    if old_mode is mode:
        return article
    article.comment_mode = mode
    session.flush()
    record_action(
        session, actor, "article", article.cms_id, "set_comment_mode", old_mode.value, mode.value
    )
    return article


def set_default_sort(
    session: Session, article_id: str, sort: ThreadSort, actor: User | None
) -> Article:
    """Set the order of an article's thread when the reader picks none; audited when it
    changes. The cached pages go (the default decides what a page without ?sort shows)."""
    article = get_article(session, article_id)
    old_sort = article.default_sort
    if old_sort is sort:
        return article
    article.default_sort = sort
    touch_article(session, article.id)
    session.flush()
    record_action(
        session, actor, "article", article.cms_id, "set_default_sort", old_sort.value, sort.value
    )
    return article
