"""What a webhook says about each event: `{"type", "timestamp", "data"}`.

The data is what a newsroom tool needs to act without calling back: ids, the article's own
id (its CMS id), title and URL, the comment's state and a short excerpt, the author's id and
name. Never an e-mail address, an IP hash, a moderator's internal note or who reported a
comment (reporters are promised discretion).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models import Article, Comment, Poll, User

EXCERPT_MAX = 280


def excerpt(body: str) -> str:
    """The comment's first EXCERPT_MAX characters, cut at a word where possible."""
    text = " ".join(body.split())
    if len(text) <= EXCERPT_MAX:
        return text
    cut = text[: EXCERPT_MAX - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > EXCERPT_MAX // 2 else cut) + "…"


def _user(session: Session, user_id: int | None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = session.get(User, user_id)
    return {"id": user_id, "username": user.username if user else None}


def _article(session: Session, article_id: int | None) -> dict[str, Any] | None:
    if article_id is None:
        return None
    article = session.get(Article, article_id)
    if article is None:
        return {"id": None, "title": None, "url": None}
    return {"id": article.cms_id, "title": article.title, "url": article.url}


def _comment(session: Session, comment_id: int | None) -> dict[str, Any] | None:
    if comment_id is None:
        return None
    comment = session.get(Comment, comment_id)
    if comment is None:
        return {"id": comment_id}
    return {
        "id": comment.id,
        "parent_id": comment.parent_id,
        "state": comment.state.value,
        "created_at": comment.created_at.isoformat(),
        "excerpt": excerpt(comment.body),
    }


def _scalars(data: dict[str, Any]) -> dict[str, Any]:
    """Only JSON-safe plain values (an event's data as it is, for queue.alert)."""
    plain: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, datetime):
            plain[key] = value.isoformat()
        elif value is None or isinstance(value, str | int | float | bool):
            plain[key] = value
    return plain


def event_data(session: Session, name: str, data: dict[str, Any]) -> dict[str, Any]:
    """The `data` of a webhook for the domain event `name` with `data`."""
    get = data.get
    if name == "comment.created":
        return {
            "comment": _comment(session, get("comment_id")),
            "article": _article(session, get("article_id")),
            "author": _user(session, get("author_id")),
        }
    if name == "comment.state_changed":
        return {
            "comment": _comment(session, get("comment_id")),
            "article": _article(session, get("article_id")),
            "author": _user(session, get("author_id")),
            "from_state": get("from_state"),
            "to_state": get("to_state"),
            "automated": bool(get("automated")),
            "reason_code": get("reason_code"),
            "actor": _user(session, get("actor_id")),
        }
    if name == "report.created":
        comment = session.get(Comment, get("comment_id")) if get("comment_id") else None
        return {
            "report": {"id": get("report_id"), "reason": _value(get("reason"))},
            "comment": _comment(session, get("comment_id")),
            "article": _article(session, comment.article_id if comment else None),
        }
    if name == "appeal.created":
        comment = session.get(Comment, get("comment_id")) if get("comment_id") else None
        return {
            "appeal": {"id": get("appeal_id")},
            "comment": _comment(session, get("comment_id")),
            "article": _article(session, comment.article_id if comment else None),
            "author": _user(session, get("author_id")),
        }
    if name == "poll.closed":
        poll = session.get(Poll, get("poll_id")) if get("poll_id") else None
        return {
            "poll": {
                "id": get("poll_id"),
                "question": poll.question if poll else None,
                "ballot_count": poll.ballot_count if poll else None,
            },
            "article": _article(session, get("article_id")),
        }
    return _scalars(data)


def _value(value: Any) -> Any:
    """An enum member's stored value; anything else as it is."""
    return getattr(value, "value", value)


def webhook_payload(name: str, occurred_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The body of one webhook, as the Standard Webhooks scheme suggests."""
    return {"type": name, "timestamp": occurred_at.isoformat(), "data": data}
