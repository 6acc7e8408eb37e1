"""Match-day mode: admins schedule it site-wide (/beheer/), editors per article (/redactie/)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from articles.services import get_article
from db import get_session
from errors import DomainError
from models import Article, MatchDayWindow, Role
from moderation import modes
from security import role_required

bp = Blueprint("matchday", __name__)


@bp.get("/beheer/wedstrijddag")
@role_required(Role.ADMIN, Role.EDITOR)
def windows() -> ResponseReturnValue:
    """Scheduled and running match-day windows, and the form to add one."""
    session = get_session()
    upcoming = modes.upcoming_windows(session)
    article_ids = {w.article_id for w in upcoming if w.article_id}
    titles = (
        {a.id: a for a in session.scalars(select(Article).where(Article.id.in_(article_ids)))}
        if article_ids
        else {}
    )
    return render_template("admin/matchday.html", windows=upcoming, articles=titles)


@bp.post("/beheer/wedstrijddag")
@role_required(Role.ADMIN, Role.EDITOR)
def schedule() -> ResponseReturnValue:
    """Schedule a window: site-wide needs an admin, one article an editor or admin."""
    session = get_session()
    article_id = (request.form.get("article_id") or "").strip()
    article = get_article(session, article_id) if article_id else None
    if article is None and current_user.role is not Role.ADMIN:
        raise DomainError(
            "forbidden", "Enkel een beheerder zet de wedstrijddagmodus voor de hele site.", 403
        )
    modes.schedule_window(
        session,
        current_user,
        article,
        request.form.get("mode", ""),
        request.form.get("starts_at", ""),
        request.form.get("ends_at", ""),
        request.form.get("slow_seconds"),
        request.form.get("label"),
    )
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
