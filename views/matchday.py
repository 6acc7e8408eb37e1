"""Match-day mode: admins schedule it site-wide (/beheer/), editors per article (/redactie/)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from articles.services import get_article
from db import get_session
from errors import DomainError, wants_json
from forms.admin import MatchDayForm
from forms.base import ButtonForm
from models import Article, MatchDayWindow, Role
from moderation import modes
from security import role_required

bp = Blueprint("matchday", __name__)


@bp.get("/beheer/wedstrijddag")
@role_required(Role.ADMIN, Role.EDITOR)
def windows() -> ResponseReturnValue:
    """Scheduled and running match-day windows, and the form to add one."""
    return _render(MatchDayForm(formdata=None))


def _render(form: MatchDayForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    upcoming = modes.upcoming_windows(session)
    article_ids = {w.article_id for w in upcoming if w.article_id}
    titles = (
        {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(article_ids)))}
        if article_ids
        else {}
    )
    return (
        render_template(
            "admin/matchday.html",
            windows=upcoming,
            articles=titles,
            form=form,
            button=ButtonForm(formdata=None),
        ),
        status,
    )


def _refused(form: MatchDayForm, error: DomainError) -> ResponseReturnValue:
    """JSON clients get the error; the page comes back with the typed window and the reason
    beside the field it concerns."""
    get_session().rollback()
    if wants_json():
        raise error
    form.refuse(error)
    return _render(form, error.status_code)


def _article(article_id: str) -> Article | None:
    """The window's article (None: site-wide, which only an admin may schedule)."""
    if not article_id:
        if current_user.role is not Role.ADMIN:
            raise DomainError(
                "forbidden",
                "Enkel een beheerder zet de wedstrijddagmodus voor de hele site. "
                "Vul een artikel-id in.",
                403,
                details={"field": "article_id"},
            )
        return None
    try:
        return get_article(get_session(), article_id)
    except DomainError as exc:
        exc.details = {"field": "article_id"}
        raise


@bp.post("/beheer/wedstrijddag")
@role_required(Role.ADMIN, Role.EDITOR)
def schedule() -> ResponseReturnValue:
    """Schedule a window: site-wide needs an admin, one article an editor or admin."""
    session = get_session()
    form = MatchDayForm()
    if not form.validate():
        return _refused(form, form.invalid())
    article_id = (form.article_id.data or "").strip()
    try:
        # A mistyped article id or an editor's empty one is a mistake in the form: it comes
        # back beside the article field with everything typed, not as an error page.
        article = _article(article_id)
        modes.schedule_window(
            session,
            current_user,
            article,
            form.mode.data,
            form.starts_at.data,
            form.ends_at.data,
            form.slow_seconds.data,
            form.label.data,
        )
    except DomainError as exc:
        return _refused(form, exc)
    session.commit()
    flash("Wedstrijddagmodus ingepland.", "success")
    return redirect(url_for("matchday.windows")), 303


@bp.post("/beheer/wedstrijddag/<int:window_id>/annuleren")
@role_required(Role.ADMIN, Role.EDITOR)
def cancel(window_id: int) -> ResponseReturnValue:
    """Cancel a window (editors only their per-article ones)."""
    session = get_session()
    window = session.get(MatchDayWindow, window_id)
    if window is not None and window.article_id is None and current_user.role is not Role.ADMIN:
        raise DomainError("forbidden", "Enkel een beheerder annuleert een sitebreed venster.", 403)
    modes.cancel_window(session, current_user, window_id)
    session.commit()
    flash("Venster geannuleerd.", "success")
    return redirect(url_for("matchday.windows")), 303
