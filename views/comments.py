"""Comment forms on the article page: post, reply, edit, delete, report, appeal (work
without JS). A refused form comes back on the article page with what the reader typed and the
reason beside the field, with the refusal's status (422, 429, 403, 409)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from articles import services as articles
from comments import picks, reactions
from comments import services as comments
from db import get_session, read_first, start_write
from errors import DomainError, wants_json
from extensions import limiter, limits_checked
from forms.base import ConfirmForm, TribuneForm
from forms.comments import (
    AppealForm,
    ArticleForms,
    CommentForm,
    EditCommentForm,
    ReactionForm,
    ReportForm,
)
from lookups import get_or_404
from models import Article, Comment, CommentState, Role, User
from moderation.actions import file_appeal
from parsing import is_int_text
from security import login_required_any, role_required
from views.auth import safe_next
from views.pages import render_article
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


def reply_target(form: CommentForm) -> tuple[object, str, int | None]:
    """The parent the form names and what the form is: ("reply", id) or ("post", None).

    Digits become the id (the service refuses one that names no row); anything else goes on
    as it came, for the service's clear "invalid_parent" instead of a top-level comment."""
    parent = form.parent_id.data or ""
    parent_id: object = (int(parent) if is_int_text(parent) else parent) if parent else None
    if isinstance(parent_id, int):
        return parent_id, "reply", parent_id
    return parent_id, "post", None


def submit_comment(article_id: str, form: CommentForm, parent_id: object) -> comments.PostResult:
    """Post the form's text as the current user, through the one posting pipeline."""
    session = get_session()
    return comments.post_comment(
        session,
        article_id,
        current_user,
        form.body.data,
        parent_id,
        screen_text,
        posting_policy(),
        activity_store(),
        before_write=lambda: start_write(session),
    )


def submit_report(comment_id: int, form: ReportForm) -> bool:
    """Report the comment as the current user with the form's reason; False when they had
    reported it already."""
    _, created = comments.report_comment(
        get_session(),
        comment_id,
        current_user,
        form.reason.data,
        form.note.data or None,
        posting_policy(),
    )
    return created


def reaction_limit() -> str:
    """TRIBUNE_REACTION_LIMIT: "Sterk" given or taken back, per account (pages, embed, API)."""
    return str(current_app.config["TRIBUNE_REACTION_LIMIT"])


def reader_key() -> str:
    """Flask-Limiter's key of a reaction: the account (every reaction route needs one)."""
    return f"reaction:{current_user.id}" if current_user.is_authenticated else "reaction:anon"


# One budget for the page forms, the embed and the API alike.
reaction_limited = limiter.shared_limit(reaction_limit, scope="reactions", key_func=reader_key)


def submit_reaction(comment_id: int, form: ReactionForm) -> reactions.ReactionState:
    """Give (sterk=1) or take back (anything else) the current user's "Sterk"."""
    session = get_session()
    if form.sterk.data == "1":
        return reactions.react(session, current_user, comment_id, posting_policy())
    return reactions.unreact(session, current_user, comment_id)


def _back_to(article_cms_id: str, anchor: str = "reacties") -> str:
    return url_for("pages.article", article_id=article_cms_id) + "#" + anchor


def _failed(
    form: TribuneForm,
    kind: str,
    target: int | None,
    article_id: str,
    exc: DomainError | None = None,
    not_found_is_404: bool = False,
) -> ResponseReturnValue:
    """The article page again, with this form holding the typed text and the error beside it.
    An unknown article stays a 404 page (nothing to go back to); so does every "not found"
    where the form must not tell whether something exists (appeals on others' comments)."""
    get_session().rollback()
    if exc is None:
        exc = form.invalid()
    elif exc.code == "article_not_found" or (not_found_is_404 and exc.status_code == 404):
        raise exc
    else:
        form.refuse(exc)
    if wants_json():
        raise exc
    return render_article(article_id, ArticleForms(kind, target, form), exc.status_code)


def _article_of(comment_id: int) -> str:
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    return session.get_one(Article, comment.article_id).cms_id


@bp.post("/artikels/<article_id>/reacties")
@read_first
@login_required_any
def post(article_id: str) -> ResponseReturnValue:
    """Post a comment or a reply from the article page."""
    session = get_session()
    form = CommentForm()
    parent_id, kind, target = reply_target(form)
    if not form.validate():
        return _failed(form, kind, target, article_id)
    try:
        result = submit_comment(article_id, form, parent_id)
    except DomainError as exc:
        return _failed(form, kind, target, article_id, exc)
    session.commit()
    message, category = OUTCOME_MESSAGES[result.comment.state]
    flash(message, category)
    return redirect(_back_to(article_id, f"reactie-{result.comment.id}")), 303


@bp.post("/reacties/<int:comment_id>/bewerken")
@login_required_any
def edit(comment_id: int) -> ResponseReturnValue:
    """Edit one's own comment within the edit window."""
    session = get_session()
    article_id = _article_of(comment_id)
    form = EditCommentForm()
    if not form.validate():
        return _failed(form, "edit", comment_id, article_id)
    try:
        result = comments.edit_comment(
            session,
            comment_id,
            current_user,
            form.body.data,
            screen_text,
            posting_policy(),
        )
    except DomainError as exc:
        return _failed(form, "edit", comment_id, article_id, exc)
    session.commit()
    if result.comment.state is CommentState.HELD:
        flash("Je aangepaste reactie wordt eerst nagekeken.", "info")
    else:
        flash("Je reactie is aangepast.", "success")
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.route("/reacties/<int:comment_id>/verwijderen", methods=["GET", "POST"])
@login_required_any
def delete(comment_id: int) -> ResponseReturnValue:
    """Delete one's own comment, in two steps: GET (or a POST without the confirmation) shows
    what will go with a "yes" button; only that button's POST deletes. Undo follows."""
    session = get_session()
    article_id = _article_of(comment_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.confirmed():
        comment = comments.own_comment(session, comment_id, current_user)
        return render_template(
            "pages/confirm_delete.html",
            comment=comment,
            article=session.get_one(Article, comment.article_id),
            form=ConfirmForm(formdata=None),
            undo_minutes=posting_policy().undo_delete_seconds // 60,
        )
    comments.delete_comment(session, comment_id, current_user)
    session.commit()
    flash("Je reactie is verwijderd. Je kan dit nog even ongedaan maken.", "success")
    return redirect(_back_to(article_id, f"verwijderd-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/terugzetten")
@login_required_any
def undelete(comment_id: int) -> ResponseReturnValue:
    """Take back deleting one's own comment, within the undo window."""
    session = get_session()
    article_id = _article_of(comment_id)
    try:
        comments.undelete_comment(session, comment_id, current_user, posting_policy())
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404 or wants_json():
            raise
        flash(exc.message, "error")
        return redirect(_back_to(article_id)), 303
    session.commit()
    flash("Je reactie staat terug.", "success")
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/melden")
@login_required_any
def report(comment_id: int) -> ResponseReturnValue:
    """Report someone else's comment."""
    session = get_session()
    article_id = _article_of(comment_id)
    form = ReportForm()
    if not form.validate():
        return _failed(form, "report", comment_id, article_id)
    try:
        created = submit_report(comment_id, form)
    except DomainError as exc:
        return _failed(form, "report", comment_id, article_id, exc)
    session.commit()
    flash(
        "Bedankt, een moderator bekijkt je melding."
        if created
        else "Je had deze reactie al gemeld.",
        "success",
    )
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/sterk")
@login_required_any
@limits_checked
@reaction_limited
def react(comment_id: int) -> ResponseReturnValue:
    """Give someone else's comment a "Sterk", or take it back (the form says which)."""
    session = get_session()
    article_id = _article_of(comment_id)
    form = ReactionForm()
    if not form.validate():
        return _failed(form, "reaction", comment_id, article_id)
    try:
        submit_reaction(comment_id, form)
    except DomainError as exc:
        # The comment may be gone from the thread (removed, held): the reason goes on top of
        # the page rather than beside a button that is not there.
        session.rollback()
        if exc.code == "article_not_found" or wants_json():
            raise
        flash(exc.message, "error")
        return render_article(article_id, status=exc.status_code)
    session.commit()
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


@bp.post("/reacties/<int:comment_id>/bezwaar")
@login_required_any
def appeal(comment_id: int) -> ResponseReturnValue:
    """The author appeals a rejection or removal (once)."""
    session = get_session()
    article_id = _article_of(comment_id)
    form = AppealForm()
    if not form.validate():
        return _failed(form, "appeal", comment_id, article_id)
    try:
        file_appeal(session, current_user, comment_id, form.body.data)
    except DomainError as exc:
        return _failed(form, "appeal", comment_id, article_id, exc, not_found_is_404=True)
    session.commit()
    flash("Je bezwaar is ingediend. Een moderator bekijkt het.", "success")
    return redirect(_back_to(article_id, f"reactie-{comment_id}")), 303


def _pick(comment_id: int, act: Callable[[Session, User, Comment], str], anchor: str) -> Response:
    """Run one staff pick or pin from the article page's button (CSRF checked by the app)."""
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    article = session.get_one(Article, comment.article_id)
    try:
        message = act(session, current_user._get_current_object(), comment)
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404 or wants_json():
            raise
        flash(exc.message, "error")
        return redirect(_back_to(article.cms_id, f"reactie-{comment_id}"), 303)
    session.commit()
    flash(message, "success")
    # From the moderation queue: back to it (a local path only); else the article.
    back = request.form.get("terug")
    if back:
        return redirect(safe_next(back), 303)
    return redirect(_back_to(article.cms_id, anchor), 303)


@bp.post("/reacties/<int:comment_id>/uitlichten")
@role_required(Role.MODERATOR, Role.EDITOR, Role.ADMIN)
def feature(comment_id: int) -> ResponseReturnValue:
    """Mark a published comment "Uitgelicht" (its author is told)."""

    def act(session: Session, actor: User, comment: Comment) -> str:
        picks.feature(session, actor, comment.id)
        return "De reactie is uitgelicht."

    return _pick(comment_id, act, f"reactie-{comment_id}")


@bp.post("/reacties/<int:comment_id>/niet-uitlichten")
@role_required(Role.MODERATOR, Role.EDITOR, Role.ADMIN)
def unfeature(comment_id: int) -> ResponseReturnValue:
    """Take a comment out of "Uitgelicht"."""

    def act(session: Session, actor: User, comment: Comment) -> str:
        picks.unfeature(session, actor, comment.id)
        return "De reactie is niet meer uitgelicht."

    return _pick(comment_id, act, f"reactie-{comment_id}")


@bp.post("/reacties/<int:comment_id>/vastpinnen")
@role_required(Role.EDITOR, Role.ADMIN)
def pin(comment_id: int) -> ResponseReturnValue:
    """Pin the editor's own comment above the thread (in place of the pinned one)."""

    def act(session: Session, editor: User, comment: Comment) -> str:
        picks.pin(session, editor, session.get_one(Article, comment.article_id), comment.id)
        return "Je reactie staat vastgepind boven de reacties."

    return _pick(comment_id, act, "vastgepind")


@bp.post("/artikels/<article_id>/losmaken")
@role_required(Role.EDITOR, Role.ADMIN)
def unpin(article_id: str) -> ResponseReturnValue:
    """Unpin the article's pinned comment."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    try:
        picks.unpin(session, current_user._get_current_object(), article)
    except DomainError as exc:
        session.rollback()
        if wants_json():
            raise
        flash(exc.message, "error")
        return redirect(_back_to(article.cms_id), 303)
    session.commit()
    flash("De vastgepinde reactie is losgemaakt.", "success")
    return redirect(_back_to(article.cms_id), 303)
