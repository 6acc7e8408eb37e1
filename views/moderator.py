"""/moderatie/: the moderators' queue, decisions, word lists, history and stats."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from db import get_session
from errors import Invalid, wants_json
from lookups import get_or_404
from models import (
    Comment,
    LexiconAction,
    LexiconEntry,
    ReasonCode,
    Role,
    User,
    UserNote,
)
from moderation import actions, runtime, stats, triage
from parsing import is_id_text
from security import role_required
from wiring import lexicon_refresher

bp = Blueprint("moderator", __name__, url_prefix="/moderatie")
MODERATORS = (Role.MODERATOR, Role.ADMIN)


def _filter_from(args) -> triage.QueueFilter:  # type: ignore[no-untyped-def]
    tab = args.get("tab", "wachtrij")
    sort = args.get("sort", "oudste")
    reason = args.get("reden") or None
    if tab not in triage.TABS:
        tab = "wachtrij"
    if sort not in triage.SORTS:
        sort = "oudste"
    if reason and reason not in {code.value for code in ReasonCode}:
        reason = None
    return triage.QueueFilter(
        tab=tab,
        article=(args.get("artikel") or "").strip()[:64] or None,
        reason=reason,
        author=(args.get("auteur") or "").strip()[:32] or None,
        sort=sort,
        page=max(1, args.get("pagina", 1, type=int) or 1),
    )


def _done(message: str, payload: dict | None = None):  # type: ignore[no-untyped-def]
    """Answer a decision: JSON for scripts, a redirect back to the queue for forms."""
    if wants_json():
        return jsonify(ok=True, message=message, **(payload or {}))
    flash(message, "success")
    back = request.form.get("back", "")
    if not back.startswith("/moderatie/") or "//" in back:
        back = url_for("moderator.queue")
    return redirect(back), 303


def _int_form(name: str) -> int:
    raw = request.form.get(name, "")
    if not is_id_text(raw):
        raise Invalid("invalid_parameter", f"{name} ontbreekt of is geen geldig nummer.")
    return int(raw)


@bp.get("/")
@role_required(*MODERATORS)
def queue():  # type: ignore[no-untyped-def]
    """The queue: tabs, filters, sorts, one page of items."""
    session = get_session()
    flt = _filter_from(request.args)
    return render_template(
        "moderator/queue.html",
        flt=flt,
        items=triage.list_queue(session, flt),
        counts=triage.tab_counts(session),
        oldest=triage.oldest_waiting(session),
        tabs=triage.TAB_LABELS,
        sorts=triage.SORTS,
        reasons=list(ReasonCode),
        page_size=triage.PAGE_SIZE,
    )


@bp.get("/tellers")
@role_required(*MODERATORS)
def counts():  # type: ignore[no-untyped-def]
    """Counts per tab and the oldest wait, for polling every few seconds."""
    session = get_session()
    return (
        jsonify(
            tabs=triage.tab_counts(session), oldest_waiting_seconds=triage.oldest_waiting(session)
        ),
        200,
        {"Cache-Control": "no-store"},
    )


@bp.post("/reacties/<int:comment_id>/goedkeuren")
@role_required(*MODERATORS)
def approve(comment_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.approve(session, current_user, comment_id)
    session.commit()
    return _done("Reactie goedgekeurd.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/afwijzen")
@role_required(*MODERATORS)
def reject(comment_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.reject(
        session, current_user, comment_id, request.form.get("reason"), request.form.get("note")
    )
    session.commit()
    return _done("Reactie afgewezen.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/verwijderen")
@role_required(*MODERATORS)
def remove(comment_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.remove(
        session, current_user, comment_id, request.form.get("reason"), request.form.get("note")
    )
    session.commit()
    return _done("Reactie verwijderd.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/herstellen")
@role_required(*MODERATORS)
def restore(comment_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.restore(session, current_user, comment_id, request.form.get("note"))
    session.commit()
    return _done("Reactie hersteld.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/meldingen-afwijzen")
@role_required(*MODERATORS)
def dismiss(comment_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.dismiss(session, current_user, comment_id, request.form.get("note"))
    session.commit()
    return _done("Meldingen afgewezen; de reactie blijft staan.", {"comment_id": comment_id})


@bp.post("/bulk")
@role_required(*MODERATORS)
def bulk():  # type: ignore[no-untyped-def]
    """Approve or reject the selected items."""
    ids = [int(raw) for raw in request.form.getlist("ids") if is_id_text(raw)]
    if not ids:
        raise Invalid("nothing_selected", "Selecteer eerst reacties (x).")
    session = get_session()
    result = actions.bulk(
        session,
        current_user,
        ids,
        request.form.get("action", ""),
        request.form.get("reason"),
        request.form.get("note"),
    )
    session.commit()
    message = f"{len(result.done)} reacties verwerkt"
    if result.refused:
        message += f", {len(result.refused)} overgeslagen (al behandeld of niet toegestaan)"
    return _done(message + ".", {"done": result.done, "refused": result.refused})


@bp.post("/gebruikers/<int:user_id>/schorsen")
@role_required(*MODERATORS)
def ban(user_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    user = actions.ban(
        session,
        current_user,
        user_id,
        request.form.get("duration", ""),
        request.form.get("reason"),
        request.form.get("note"),
        reject_held=request.form.get("reject_held") == "on",
    )
    session.commit()
    return _done(f"{user.username} is geschorst.", {"user_id": user.id})


@bp.post("/gebruikers/<int:user_id>/opheffen")
@role_required(*MODERATORS)
def lift(user_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    user = actions.lift_ban(session, current_user, user_id, request.form.get("note"))
    session.commit()
    return _done(f"De schorsing van {user.username} is opgeheven.", {"user_id": user.id})


@bp.post("/gebruikers/<int:user_id>/notities")
@role_required(*MODERATORS)
def note(user_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    actions.add_note(session, current_user, user_id, request.form.get("body"))
    session.commit()
    return _done("Notitie opgeslagen.", {"user_id": user_id})


@bp.post("/bezwaren/<int:appeal_id>")
@role_required(*MODERATORS)
def decide_appeal(appeal_id: int):  # type: ignore[no-untyped-def]
    decision = request.form.get("decision")
    if decision not in ("uphold", "deny"):
        raise Invalid("invalid_decision", "Kies bezwaar toekennen of afwijzen.")
    session = get_session()
    actions.decide_appeal(
        session, current_user, appeal_id, decision == "uphold", request.form.get("note")
    )
    session.commit()
    return _done(
        "Bezwaar toegekend; de reactie staat weer online."
        if decision == "uphold"
        else "Bezwaar afgewezen; de beslissing blijft.",
        {"appeal_id": appeal_id},
    )


@bp.get("/reacties/<int:comment_id>")
@role_required(*MODERATORS)
def comment_history(comment_id: int):  # type: ignore[no-untyped-def]
    """One comment with its full history."""
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    item = triage.load_items(session, [comment])[0]
    return render_template(
        "moderator/comment.html",
        item=item,
        history=triage.history(session, "comment", comment_id),
        actors=stats.actor_names(session),
        reasons=list(ReasonCode),
    )


@bp.get("/gebruikers/<int:user_id>")
@role_required(*MODERATORS)
def user_history(user_id: int):  # type: ignore[no-untyped-def]
    """One user: card, comments, notes and the full history of decisions about them."""
    session = get_session()
    user = get_or_404(session, User, user_id, "user_not_found", "Die gebruiker bestaat niet.")
    recent = list(
        session.scalars(
            select(Comment)
            .where(Comment.author_id == user.id)
            .order_by(Comment.created_at.desc())
            .limit(50)
        )
    )
    notes = list(
        session.scalars(
            select(UserNote).where(UserNote.user_id == user.id).order_by(UserNote.created_at.desc())
        )
    )
    return render_template(
        "moderator/user.html",
        user=user,
        comments=recent,
        notes=notes,
        history=triage.history(session, "user", user.id),
        actors=stats.actor_names(session),
        reasons=list(ReasonCode),
    )


@bp.get("/woorden")
@role_required(*MODERATORS)
def words():  # type: ignore[no-untyped-def]
    """Runtime word-list changes on top of the shipped lists."""
    session = get_session()
    entries = list(session.scalars(select(LexiconEntry).order_by(LexiconEntry.created_at.desc())))
    return render_template(
        "moderator/words.html",
        entries=entries,
        version=runtime.read_version(session),
        lists=runtime.LIST_NAMES,
        actions=list(LexiconAction),
    )


@bp.post("/woorden")
@role_required(*MODERATORS)
def add_word():  # type: ignore[no-untyped-def]
    try:
        action = LexiconAction(request.form.get("action", ""))
    except ValueError:
        raise Invalid("invalid_action", "Kies toevoegen, uitzonderen of domein toestaan.") from None
    session = get_session()
    entry, version = runtime.add_entry(
        session, current_user, action, request.form.get("word", ""), request.form.get("list")
    )
    session.commit()
    lexicon_refresher().publish(version)
    return _done(f"Woordenlijst bijgewerkt ({entry.word}).", {"version": version})


@bp.post("/woorden/<int:entry_id>/verwijderen")
@role_required(*MODERATORS)
def remove_word(entry_id: int):  # type: ignore[no-untyped-def]
    session = get_session()
    version = runtime.remove_entry(session, current_user, entry_id)
    session.commit()
    lexicon_refresher().publish(version)
    return _done("Regel verwijderd uit de woordenlijst.", {"version": version})


@bp.get("/statistieken")
@role_required(*MODERATORS)
def statistics():  # type: ignore[no-untyped-def]
    """Decisions per hour, per moderator and per reason; waiting time over time."""
    hours = request.args.get("uren", 48, type=int) or 48
    hours = min(max(hours, 6), 24 * 14)
    return render_template("moderator/stats.html", report=stats.build(get_session(), hours))
