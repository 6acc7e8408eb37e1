"""Reading polls for pages."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import Article, Poll


def article_polls(session: Session, article: Article) -> list[Poll]:
    """The article's polls with their options (and line-ups), oldest first."""
    return list(
        session.scalars(
            select(Poll)
            .where(Poll.article_id == article.id)
            .options(selectinload(Poll.options), selectinload(Poll.players))
            .order_by(Poll.created_at, Poll.id)
        )
    )
