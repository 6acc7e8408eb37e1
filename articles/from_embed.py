"""Articles created by the comments embed (issue 16 point 5): an unknown article id, framed by
an allowed publisher page, becomes an article with that page's title and URL when
TRIBUNE_EMBED_CREATES_ARTICLES is on. Rules as plain functions; the view commits."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from articles.services import ArticleFields, register_article, validate_article_id
from errors import Invalid
from models import Article

TITLE_MAX = 300  # articles.title
URL_MAX = 2000  # articles.url
NOT_OPEN_NL = "Reageren is hier niet geopend."


def embed_article_fields(
    title: str | None, url: str | None, origin_allowed: Callable[[str], bool]
) -> ArticleFields | None:
    """The new article's fields from the host page's title and URL, or None when they do not
    qualify: the URL must be absolute http(s), without credentials, and its origin allowed;
    the title must have text (control characters dropped, cut to the column's length)."""
    words = (title or "").split()  # tabs and newlines become single spaces
    clean_title = "".join(ch for ch in " ".join(words) if ch.isprintable()).strip()
    if not clean_title or not url or len(url) > URL_MAX:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        return None
    if not origin_allowed(f"{parts.scheme}://{parts.netloc}"):
        return None
    return ArticleFields(title=clean_title[:TITLE_MAX], url=url)


def create_article_from_embed(
    session: Session,
    article_id: str,
    title: str | None,
    url: str | None,
    *,
    enabled: bool,
    origin_allowed: Callable[[str], bool],
) -> Article | None:
    """Register the unknown article `article_id` for the embed, or None when comments are not
    open here (creation off, a malformed id, or a title/URL that does not qualify)."""
    if not enabled:
        return None
    try:
        validate_article_id(article_id)
    except Invalid:
        return None
    fields = embed_article_fields(title, url, origin_allowed)
    if fields is None:
        return None
    article, _ = register_article(session, article_id, fields, None)
    return article
