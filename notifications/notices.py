"""What each notification says: built from the rows an event names, as the context of its mail
template (JSON: ids, strings, ISO timestamps) and as one line of the daily digest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Appeal,
    AppealState,
    Article,
    Comment,
    CommentState,
    NotificationKind,
    ReasonCode,
    Report,
    ReportOutcome,
    User,
)
from moderation.actions import APPEAL_MAX, APPEAL_MIN
from moderation.flags import FlagCode
from moderation.rules import ContextFlag

EXCERPT_CHARS = 200
SHORT_EXCERPT_CHARS = 60


@dataclass(frozen=True)
class Notice:
    """One notification to one account: its mail (template + context) and its digest line."""

    kind: NotificationKind
    template: str  # templates/mail/<template>.txt and .html
    context: dict[str, Any]
    article_id: int | None
    article_title: str
    summary: str  # the digest's line, Dutch
    path: str  # where the digest's line links to


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """A comment's text on one line, cut at a word near `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def comment_path(article: Article, comment_id: int | None = None) -> str:
    """The article page, at one comment (its anchor: pages/_comment.html, _own_pending.html)."""
    path = f"/artikels/{article.cms_id}"
    return f"{path}#reactie-{comment_id}" if comment_id is not None else path


def rule_label(code: str) -> str:
    """The Dutch label of a stored flag code (a screening rule or a context rule)."""
    try:
        return FlagCode.from_code(code).label_nl
    except ValueError:
        for flag in ContextFlag:
            if flag.code == code:
                return flag.label_nl
    return code


def _article(session: Session, comment: Comment) -> Article:
    return session.get_one(Article, comment.article_id)


def _was_reported(session: Session, comment: Comment) -> bool:
    # Its open reports were settled by the decision itself (report_count is 0 by now).
    return (
        session.scalar(select(Report.id).where(Report.comment_id == comment.id).limit(1))
        is not None
    )


def reply_notice(session: Session, reply: Comment, parent: Comment) -> Notice:
    """Someone answered the recipient's comment."""
    article = _article(session, reply)
    replier = session.get_one(User, reply.author_id).username
    path = comment_path(article, reply.id)
    return Notice(
        kind=NotificationKind.REPLY,
        template="notify_reply",
        context={
            "replier": replier,
            "article_title": article.title,
            "excerpt": excerpt(reply.body),
            "parent_excerpt": excerpt(parent.body, SHORT_EXCERPT_CHARS),
            "reply_path": path,
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"{replier} antwoordde: “{excerpt(reply.body, SHORT_EXCERPT_CHARS)}”",
        path=path,
    )


def approved_notice(session: Session, comment: Comment, restored: bool = False) -> Notice:
    """A moderator published the recipient's held comment (or restored a rejected one)."""
    article = _article(session, comment)
    path = comment_path(article, comment.id)
    verb = "teruggezet" if restored else "goedgekeurd"
    return Notice(
        kind=NotificationKind.DECISION,
        template="notify_approved",
        context={
            "article_title": article.title,
            "excerpt": excerpt(comment.body),
            "comment_path": path,
            "restored": restored,
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"Je reactie werd {verb} en staat online: “{excerpt(comment.body, 60)}”",
        path=path,
    )


def featured_notice(session: Session, comment: Comment) -> Notice:
    """Staff marked the recipient's comment "Uitgelicht" (comments.picks)."""
    article = _article(session, comment)
    path = comment_path(article, comment.id)
    return Notice(
        kind=NotificationKind.DECISION,
        template="notify_featured",
        context={
            "article_title": article.title,
            "excerpt": excerpt(comment.body),
            "comment_path": path,
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"De redactie lichtte je reactie uit: “{excerpt(comment.body, 60)}”",
        path=path,
    )


def rejected_notice(
    session: Session,
    comment: Comment,
    *,
    automated: bool,
    reason_code: str | None,
    note: str | None,
    decided_at: datetime,
    notice_ground: str | None = None,
    dispute_body: str | None = None,
) -> Notice:
    """The statement of reasons (DSA art. 17) for a rejected or removed comment: the decision,
    its reason, the rules that fired, the notice's legal ground when a notice of illegal content
    led to it, whether it was automated, and the redress: the internal appeal, out-of-court
    dispute settlement (art. 21) and the courts."""
    article = _article(session, comment)
    path = comment_path(article, comment.id)
    removed = comment.state is CommentState.REMOVED
    reason = ReasonCode(reason_code).label_nl if reason_code else None
    rules = [
        {"label": rule_label(flag.code), "detail": flag.detail or None} for flag in comment.flags
    ]
    verb = "verwijderd" if removed else "niet geplaatst"
    return Notice(
        kind=NotificationKind.DECISION,
        template="notify_rejected",
        context={
            "article_title": article.title,
            "excerpt": excerpt(comment.body),
            "removed": removed,
            "reason": reason,
            "note": note,
            "rules": rules,
            "automated": automated,
            "reported": _was_reported(session, comment),
            "notice_ground": notice_ground,
            "dispute_body": dispute_body,
            "decided_at": decided_at.isoformat(),
            "appeal_path": path,
            "appeal_min": APPEAL_MIN,
            "appeal_max": APPEAL_MAX,
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"Je reactie werd {verb}"
        + (f" ({reason.lower()})" if reason else "")
        + ": bekijk waarom en maak eventueel bezwaar",
        path=path,
    )


REPORT_OUTCOMES_NL = {
    ReportOutcome.UPHELD.value: "Terecht: de reactie werd weggehaald.",
    ReportOutcome.DISMISSED.value: "Niet weerhouden: de reactie blijft staan.",
}


def report_notice(session: Session, comment: Comment, outcome: str) -> Notice:
    """A moderator decided on a comment the recipient reported."""
    article = _article(session, comment)
    outcome_nl = REPORT_OUTCOMES_NL.get(outcome, outcome)
    return Notice(
        kind=NotificationKind.REPORT,
        template="notify_report",
        context={
            "article_title": article.title,
            "excerpt": excerpt(comment.body, SHORT_EXCERPT_CHARS),
            "upheld": outcome == ReportOutcome.UPHELD.value,
            "outcome": outcome_nl,
            "reports_path": "/profiel/gemeld",
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"Je melding: {outcome_nl}",
        path="/profiel/gemeld",
    )


def appeal_notice(session: Session, appeal: Appeal, comment: Comment) -> Notice:
    """A moderator decided the recipient's appeal."""
    article = _article(session, comment)
    upheld = appeal.state is AppealState.UPHELD
    path = comment_path(article, comment.id)
    outcome = (
        "toegekend: je reactie staat weer online"
        if upheld
        else "afgewezen: de beslissing blijft staan"
    )
    return Notice(
        kind=NotificationKind.APPEAL,
        template="notify_appeal",
        context={
            "article_title": article.title,
            "excerpt": excerpt(comment.body),
            "upheld": upheld,
            "note": appeal.decision_note,
            "comment_path": path,
        },
        article_id=article.id,
        article_title=article.title,
        summary=f"Je bezwaar werd {outcome}",
        path=path,
    )


def suspension_notice(
    user: User, *, until: str | None, permanent: bool, reason: str | None, contact: str | None
) -> Notice:
    """The recipient's account was suspended or banned (its end in Brussels time), or that was
    lifted (`until` None)."""
    lifted = until is None
    if lifted:
        summary = "Je schorsing werd opgeheven: je kan weer reageren"
    elif permanent:
        summary = "Je account werd permanent verbannen"
    else:
        summary = "Je account werd tijdelijk geschorst"
    return Notice(
        kind=NotificationKind.SUSPENSION,
        template="notify_suspension",
        context={
            "username": user.username,
            "lifted": lifted,
            "permanent": permanent,
            "until": until,
            "reason": reason,
            "contact": contact,
        },
        article_id=None,
        article_title="",
        summary=summary,
        path="/profiel",
    )


def queue_alert_notice(
    *,
    held: int,
    oldest_queued_at: datetime | None,
    wait_minutes: int | None,
    reasons: list[str],
    wait_limit: int,
    held_limit: int,
) -> Notice:
    """The moderation queue waits too long or holds too many comments (for staff)."""
    return Notice(
        kind=NotificationKind.QUEUE_ALERT,
        template="notify_queue_alert",
        context={
            "held": held,
            "oldest_queued_at": oldest_queued_at.isoformat() if oldest_queued_at else None,
            "wait_minutes": wait_minutes,
            "too_long": "wait" in reasons,
            "too_many": "held" in reasons,
            "wait_limit": wait_limit,
            "held_limit": held_limit,
            "queue_path": "/moderatie/",
        },
        article_id=None,
        article_title="",
        summary=f"{held} reacties wachten op nakijken",
        path="/moderatie/",
    )
