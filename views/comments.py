"""Comment forms on the article page: post, reply, edit, delete, report (work without JS)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from comments import services as comments
from db import get_session, read_first, start_write
from errors import DomainError
from lookups import get_or_404
from models import Article, Comment, CommentState
from parsing import is_int_text
from security import login_required_any
from wiring import activity_store, posting_policy, screen_text

bp = Blueprint("comments", __name__)

OUTCOME_MESSAGES = {
    CommentState.PUBLISHED: ("Je reactie staat online.", "success"),
    CommentState.HELD: ("Je reactie wordt eerst nagekeken door een moderator.", "info"),
    CommentState.REJECTED: (
        "Je reactie werd niet geplaatst omdat ze onze huisregels overtreedt. "
        "Je ziet ze met de reden bij 'Jouw reacties'.",
        "error",
    ),
}


def _back_to(article_cms_id: str, anchor: str = "reacties") -> str:
    return url_for("pages.article", article_id=article_cms_id) + "#" + anchor


def _refused(  # type: ignore[no-untyped-def]
    exc: DomainError, article_id: str, anchor: str, not_found_is_404: bool = False
):
    """A refused form: nothing is kept, the reason is shown above the article's comments.
    An unknown article stays a 404 page (nothing to go back to); so does every "not found"
    where the form must not tell whether something exists (appeals on others' comments)."""
    get_session().rollback()
    if exc.code == "article_not_found" or (not_found_is_404 and exc.status_code == 404):
        raise exc
    flash(exc.message, "error")
    return redirect(_back_to(article_id, anchor)), 303


def _article_of(comment_id: int) -> str:
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    return session.get_one(Article, comment.article_id).cms_id


@bp.post("/artikels/<article_id>/reacties")
@read_first
@login_required_any
def post(article_id: str):  # type: ignore[no-untyped-def]
    """Post a comment or a reply from the article page."""
    session = get_session()
    parent = request.form.get("parent_id", "")
    # Digits become the id (the service refuses one that names no row); anything else goes on
    # as it came, for the service's clear "invalid_parent" instead of a top-level comment.
    parent_id: object = (int(parent) if is_int_text(parent) else parent) if parent else None
    try:
        result = comments.post_comment(
            session,
            article_id,
            current_user,
            request.form.get("body", ""),
            parent_id,
            screen_text,
            posting_policy(),
            activity_store(),
            before_write=lambda: start_write(session),
        )
    except DomainError as exc:
        return _refused(exc, article_id, "reageer")
    session.commit()
    message, category = OUTCOME_MESSAGES[result.comment.state]
    flash(message, category)
    return redirect(_back_to(article_id, f"reactie-{result.comment.id}")), 303


@bp.post("/reacties/<int:comment_id>/bewerken")
@login_required_any
def edit(comment_id: int):  # type: ignore[no-untyped-def]
    """Edit one's own comment within the edit window."""
    session = get_session()
    article_id = _article_of(comment_id)
    try:
        result = comments.edit_comment(
            session,
            comment_id,
            current_user,
            request.form.get("body", ""),
            screen_text,
            posting_policy(),
        )
    except DomainError as exc:
        return _refused(exc, article_id, f"reactie-{comment_id}")
    session.commit()
    if result.comment.state is CommentState.HELD:
        flash("Je aangepaste reactie wordt eerst nagekeken.", "info")
    else:
        flash("Je reactie is aangepast.", "success")
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/verwijderen")
@login_required_any
def delete(comment_id: int):  # type: ignore[no-untyped-def]
    """Delete one's own comment."""
    session = get_session()
    article_id = _article_of(comment_id)
    comments.delete_comment(session, comment_id, current_user)
    session.commit()
    flash("Je reactie is verwijderd.", "success")
    return redirect(_back_to(article_id)), 303


@bp.post("/reacties/<int:comment_id>/melden")
@login_required_any
def report(comment_id: int):  # type: ignore[no-untyped-def]
    """Report someone else's comment."""
    session = get_session()
    article_id = _article_of(comment_id)
    try:
        _, created = comments.report_comment(
            session,
            comment_id,
            current_user,
            request.form.get("reason", ""),
            request.form.get("note") or None,
            posting_policy(),
        )
    except DomainError as exc:
        return _refused(exc, article_id, f"reactie-{comment_id}")
    session.commit()
    flash(
        "Bedankt, een moderator bekijkt je melding."
        if created
        else "Je had deze reactie al gemeld.",
        "success",
    )
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/bezwaar")
@login_required_any
def appeal(comment_id: int):  # type: ignore[no-untyped-def]
    """The author appeals a rejection or removal (once)."""
    from moderation.actions import file_appeal

    session = get_session()
    article_id = _article_of(comment_id)
    try:
        file_appeal(session, current_user, comment_id, request.form.get("body", ""))
    except DomainError as exc:
        return _refused(exc, article_id, f"reactie-{comment_id}", not_found_is_404=True)
    session.commit()
    flash("Je bezwaar is ingediend. Een moderator bekijkt het.", "success")
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303
