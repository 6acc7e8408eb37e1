"""Notices of illegal content (DSA art. 16): the form anyone can use, signed in or not, from
the thread page and the comments embed (which opens it first-party in a new window), and its
receipt; the notifier's complaint against "no action" (art. 20). Moderators decide both on
/moderatie/meldingen-dsa (views.moderator)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    url_for,
)
from flask import (
    session as cookie,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user

from db import get_session
from dsa import complaints, notices
from dsa.links import notice_for_token
from errors import DomainError, wants_json
from extensions import limiter, limits_checked
from forms.notices import ComplaintForm, NoticeForm
from models import Article, Comment, CommentState, Notice, User, utcnow

bp = Blueprint("notices", __name__)
RECEIPT_KEY = "notice_receipt"


def _page(comment: Comment, form: NoticeForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    return (
        render_template(
            "notices/form.html",
            comment=comment,
            article=session.get_one(Article, comment.article_id),
            author=session.get_one(User, comment.author_id).username,
            visible=comment.state is CommentState.PUBLISHED,
            form=form,
        ),
        status,
    )


@bp.route("/melden/<int:comment_id>", methods=["GET", "POST"])
@limits_checked
@limiter.limit(lambda: current_app.config["TRIBUNE_NOTICE_LIMIT_IP"], methods=["POST"])
def notice(comment_id: int) -> ResponseReturnValue:
    """Show the notice form for one comment, or file it (then the receipt)."""
    session = get_session()
    comment = notices.noticeable_comment(session, comment_id)
    signed_in = current_user.is_authenticated
    form = NoticeForm()
    if not form.is_submitted():
        if signed_in:  # typed for them, still theirs to change
            form = NoticeForm(formdata=None, name=current_user.username, email=current_user.email)
        return _page(comment, form)
    if not form.validate():
        return _page(comment, form, 422)
    try:
        filed = notices.file_notice(
            session, comment.id, form.notice_input(), current_user if signed_in else None
        )
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        form.refuse(exc)
        return _page(comment, form, exc.status_code)
    session.commit()
    cookie[RECEIPT_KEY] = filed.id
    return redirect(url_for("notices.receipt"), 303)


@bp.get("/melden/ontvangen")
def receipt() -> ResponseReturnValue:
    """The receipt (art. 16(4)) of the notice this browser filed last."""
    session = get_session()
    notice_id = cookie.get(RECEIPT_KEY)
    filed = session.get(Notice, notice_id) if isinstance(notice_id, int) else None
    if filed is None:
        return redirect(url_for("pages.index"), 303)
    comment = session.get_one(Comment, filed.comment_id)
    return render_template(
        "notices/receipt.html",
        notice=filed,
        article=session.get_one(Article, comment.article_id),
    )


# ---------------------------------------------------------------- the notifier's complaint


def _complaint_page(
    notice: Notice, form: ComplaintForm, status: int = 200, *, done: bool = False
) -> ResponseReturnValue:
    session = get_session()
    comment = session.get_one(Comment, notice.comment_id)
    refusal = None if done else complaints.complaint_refusal(notice, utcnow())
    return (
        render_template(
            "notices/complaint.html",
            notice=notice,
            comment=comment,
            article=session.get_one(Article, comment.article_id),
            form=form,
            refusal=refusal.message if refusal is not None else None,
            done=done,
        ),
        status,
    )


@bp.route("/melden/bezwaar/<token>", methods=["GET", "POST"])
@limits_checked
@limiter.limit(lambda: current_app.config["TRIBUNE_NOTICE_LIMIT_IP"], methods=["POST"])
def complaint(token: str) -> ResponseReturnValue:
    """The notifier's one complaint against "no action" on their notice (DSA art. 20),
    through the signed link of the outcome mail or /profiel/gemeld; no account needed."""
    session = get_session()
    notice = notice_for_token(session, token)
    form = ComplaintForm()
    if not form.is_submitted():
        return _complaint_page(notice, form)
    try:
        if not form.validate():
            raise form.invalid()
        filed = complaints.file_complaint(session, token, form.body.data or "")
    except DomainError as exc:
        session.rollback()
        if wants_json() or exc.status_code == 404:
            raise
        form.refuse(exc)
        return _complaint_page(notice, form, exc.status_code)
    session.commit()
    return _complaint_page(filed, form, done=True)
