"""/moderatie/: the moderators' queue, decisions, word lists, history and stats."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from db import get_session
from dsa import complaints, notices
from errors import DomainError, wants_json
from forms.base import choices
from forms.moderation import (
    AppealDecisionForm,
    BanForm,
    BulkForm,
    DecisionForm,
    ModeratorForm,
    NoteDecisionForm,
    ReasonDecisionForm,
    UserNoteForm,
    WordForm,
    queue_forms,
)
from forms.notices import ComplaintDecisionForm, NoticeDecisionForm
from lookups import get_or_404
from models import (
    Appeal,
    Comment,
    LexiconAction,
    LexiconEntry,
    ReasonCode,
    Role,
    User,
    UserNote,
)
from moderation import actions, runtime, stats, triage
from parsing import is_id_text, page_number
from security import role_required
from views.templating import LIST_LABELS_NL
from wiring import lexicon_refresher

bp = Blueprint("moderator", __name__, url_prefix="/moderatie")
MODERATORS = (Role.MODERATOR, Role.ADMIN)
# Which slot of the comment page's forms a refused form takes.
_FORM_KINDS = {
    DecisionForm: "decision",
    ReasonDecisionForm: "reason",
    NoteDecisionForm: "note_decision",
    AppealDecisionForm: "appeal",
    BanForm: "ban",
    UserNoteForm: "note",
}


def _filter_from(args: MultiDict[str, str]) -> triage.QueueFilter:
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
        page=page_number(args.get("pagina")),
    )


def _done(form: ModeratorForm, message: str, payload: dict | None = None) -> ResponseReturnValue:
    """Answer a decision: JSON for scripts, a redirect back to the queue for forms."""
    if wants_json():
        return jsonify(ok=True, message=message, **(payload or {}))
    flash(message, "success")
    back = form.back.data or ""
    if not back.startswith("/moderatie/") or "//" in back:
        back = url_for("moderator.queue")
    return redirect(back), 303


def _valid(form: ModeratorForm) -> ModeratorForm:
    """The form, validated; a JSON client gets the one error shape, a page is re-rendered by
    the caller's `except DomainError`."""
    if not form.validate():
        raise form.invalid()
    return form


def _refused(
    form: ModeratorForm,
    error: DomainError,
    comment_id: int | None = None,
    user_id: int | None = None,
) -> ResponseReturnValue:
    """A refused decision: JSON clients and "not found" get the error; a page comes back as
    the comment's (or the user's) page with this form filled in and the reason beside it."""
    get_session().rollback()
    if wants_json() or error.status_code == 404:
        raise error
    form.refuse(error)
    from_item = getattr(form, "comment_id", None)
    if comment_id is None and from_item is not None and is_id_text(from_item.data or ""):
        comment_id = int(from_item.data)
    kind = _FORM_KINDS[type(form)]
    if comment_id is not None and get_session().get(Comment, comment_id) is not None:
        return _comment_page(comment_id, error.status_code, **{kind: form})
    if user_id is not None and kind == "note":
        return _user_page(user_id, error.status_code, note_form=form)
    raise error


@bp.get("/")
@role_required(*MODERATORS)
def queue() -> ResponseReturnValue:
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
        forms=queue_forms(bulk=BulkForm(formdata=None)),
        notice_count=notices.open_count(session),
    )


@bp.get("/tellers")
@role_required(*MODERATORS)
def counts() -> ResponseReturnValue:
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
def approve(comment_id: int) -> ResponseReturnValue:
    session = get_session()
    form = DecisionForm()
    try:
        actions.approve(session, current_user, comment_id)
    except DomainError as exc:
        return _refused(form, exc, comment_id)
    session.commit()
    return _done(form, "Reactie goedgekeurd.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/afwijzen")
@role_required(*MODERATORS)
def reject(comment_id: int) -> ResponseReturnValue:
    session = get_session()
    form = ReasonDecisionForm()
    try:
        _valid(form)
        actions.reject(session, current_user, comment_id, form.reason.data, form.note.data)
    except DomainError as exc:
        return _refused(form, exc, comment_id)
    session.commit()
    return _done(form, "Reactie afgewezen.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/verwijderen")
@role_required(*MODERATORS)
def remove(comment_id: int) -> ResponseReturnValue:
    session = get_session()
    form = ReasonDecisionForm()
    try:
        _valid(form)
        actions.remove(session, current_user, comment_id, form.reason.data, form.note.data)
    except DomainError as exc:
        return _refused(form, exc, comment_id)
    session.commit()
    return _done(form, "Reactie verwijderd.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/herstellen")
@role_required(*MODERATORS)
def restore(comment_id: int) -> ResponseReturnValue:
    session = get_session()
    form = NoteDecisionForm()
    try:
        _valid(form)
        actions.restore(session, current_user, comment_id, form.note.data)
    except DomainError as exc:
        return _refused(form, exc, comment_id)
    session.commit()
    return _done(form, "Reactie hersteld.", {"comment_id": comment_id})


@bp.post("/reacties/<int:comment_id>/meldingen-afwijzen")
@role_required(*MODERATORS)
def dismiss(comment_id: int) -> ResponseReturnValue:
    session = get_session()
    form = NoteDecisionForm()
    try:
        _valid(form)
        actions.dismiss(session, current_user, comment_id, form.note.data)
    except DomainError as exc:
        return _refused(form, exc, comment_id)
    session.commit()
    return _done(form, "Meldingen afgewezen; de reactie blijft staan.", {"comment_id": comment_id})


@bp.post("/bulk")
@role_required(*MODERATORS)
def bulk() -> ResponseReturnValue:
    """Approve or reject the selected items (a refusal is an error page: nothing typed)."""
    form = _valid(BulkForm())
    session = get_session()
    result = actions.bulk(
        session, current_user, form.ids.data, form.action.data, form.reason.data, form.note.data
    )
    session.commit()
    message = f"{len(result.done)} reacties verwerkt"
    if result.refused:
        message += f", {len(result.refused)} overgeslagen (al behandeld of niet toegestaan)"
    return _done(form, message + ".", {"done": result.done, "refused": result.refused})


@bp.post("/gebruikers/<int:user_id>/schorsen")
@role_required(*MODERATORS)
def ban(user_id: int) -> ResponseReturnValue:
    session = get_session()
    form = BanForm()
    try:
        _valid(form)
        user = actions.ban(
            session,
            current_user,
            user_id,
            form.duration.data,
            form.reason.data,
            form.note.data,
            reject_held=form.reject_held.data,
        )
    except DomainError as exc:
        return _refused(form, exc, user_id=user_id)
    session.commit()
    return _done(form, f"{user.username} is geschorst.", {"user_id": user.id})


@bp.post("/gebruikers/<int:user_id>/opheffen")
@role_required(*MODERATORS)
def lift(user_id: int) -> ResponseReturnValue:
    session = get_session()
    form = NoteDecisionForm()
    try:
        _valid(form)
        user = actions.lift_ban(session, current_user, user_id, form.note.data)
    except DomainError as exc:
        return _refused(form, exc, user_id=user_id)
    session.commit()
    return _done(form, f"De schorsing van {user.username} is opgeheven.", {"user_id": user.id})


@bp.post("/gebruikers/<int:user_id>/notities")
@role_required(*MODERATORS)
def note(user_id: int) -> ResponseReturnValue:
    session = get_session()
    form = UserNoteForm()
    try:
        _valid(form)
        actions.add_note(session, current_user, user_id, form.body.data)
    except DomainError as exc:
        return _refused(form, exc, user_id=user_id)
    session.commit()
    return _done(form, "Notitie opgeslagen.", {"user_id": user_id})


@bp.post("/bezwaren/<int:appeal_id>")
@role_required(*MODERATORS)
def decide_appeal(appeal_id: int) -> ResponseReturnValue:
    session = get_session()
    form = AppealDecisionForm()
    appeal = session.get(Appeal, appeal_id)
    try:
        _valid(form)
        decision = form.decision.data
        actions.decide_appeal(
            session, current_user, appeal_id, decision == "uphold", form.note.data
        )
    except DomainError as exc:
        return _refused(form, exc, appeal.comment_id if appeal else None)
    session.commit()
    return _done(
        form,
        "Bezwaar toegekend; de reactie staat weer online."
        if decision == "uphold"
        else "Bezwaar afgewezen; de beslissing blijft.",
        {"appeal_id": appeal_id},
    )


@bp.get("/meldingen-dsa")
@role_required(*MODERATORS)
def dsa_notices() -> ResponseReturnValue:
    """The "Meldingen (DSA)" tab: open notices of illegal content (longest wait first) with
    their decision forms, and the latest decided ones with their handling time."""
    return _notices_page()


def _notices_page(
    status: int = 200,
    failed: tuple[int, NoticeDecisionForm] | None = None,
    failed_complaint: tuple[int, ComplaintDecisionForm] | None = None,
) -> ResponseReturnValue:
    session = get_session()
    return (
        render_template(
            "moderator/notices.html",
            open_items=notices.open_notices(session),
            complaint_items=notices.items(session, complaints.pending_complaints(session)),
            decided_items=notices.decided_notices(session),
            failed=failed,
            failed_complaint=failed_complaint,
            empty_form=NoticeDecisionForm(formdata=None),
            empty_complaint_form=ComplaintDecisionForm(formdata=None),
            tabs=triage.TAB_LABELS,
            counts=triage.tab_counts(session),
            notice_count=notices.open_count(session),
        ),
        status,
    )


@bp.post("/meldingen-dsa/<int:notice_id>")
@role_required(*MODERATORS)
def decide_notice(notice_id: int) -> ResponseReturnValue:
    """Remove the noticed comment or take no action; the notifier and the author are told."""
    session = get_session()
    form = NoticeDecisionForm()
    try:
        _valid(form)
        notice = notices.decide_notice(
            session, current_user, notice_id, form.decision.data, form.note.data
        )
    except DomainError as exc:
        session.rollback()
        if wants_json() or exc.status_code == 404:
            raise
        form.refuse(exc)
        return _notices_page(exc.status_code, (notice_id, form))
    session.commit()
    form.back.data = form.back.data or url_for("moderator.dsa_notices")
    removed = notice.decision is not None and notice.decision.value == "removed"
    return _done(
        form,
        "Melding beslist: de reactie is verwijderd."
        if removed
        else "Melding beslist: geen actie, de reactie blijft staan.",
        {"notice_id": notice_id},
    )


@bp.post("/meldingen-dsa/<int:notice_id>/bezwaar")
@role_required(*MODERATORS)
def decide_complaint(notice_id: int) -> ResponseReturnValue:
    """Uphold the notifier's complaint (the comment goes after all) or deny it."""
    session = get_session()
    form = ComplaintDecisionForm()
    try:
        _valid(form)
        complaints.decide_complaint(
            session, current_user, notice_id, form.decision.data == "uphold", form.note.data
        )
    except DomainError as exc:
        session.rollback()
        if wants_json() or exc.status_code == 404:
            raise
        form.refuse(exc)
        return _notices_page(exc.status_code, failed_complaint=(notice_id, form))
    session.commit()
    form.back.data = form.back.data or url_for("moderator.dsa_notices")
    return _done(
        form,
        "Bezwaar toegekend: de reactie is alsnog verwijderd."
        if form.decision.data == "uphold"
        else "Bezwaar afgewezen: de reactie blijft staan.",
        {"notice_id": notice_id},
    )


@bp.get("/reacties/<int:comment_id>")
@role_required(*MODERATORS)
def comment_history(comment_id: int) -> ResponseReturnValue:
    """One comment with its full history."""
    return _comment_page(comment_id)


def _comment_page(
    comment_id: int, status: int = 200, **failed: ModeratorForm
) -> ResponseReturnValue:
    """The comment's page; `failed` brings back the form that was refused, filled in."""
    session = get_session()
    comment = get_or_404(
        session, Comment, comment_id, "comment_not_found", "Deze reactie bestaat niet."
    )
    item = triage.load_items(session, [comment])[0]
    return (
        render_template(
            "moderator/comment.html",
            item=item,
            history=triage.history(session, "comment", comment_id),
            actors=stats.actor_names(session),
            forms=queue_forms(**failed),
        ),
        status,
    )


@bp.get("/gebruikers/<int:user_id>")
@role_required(*MODERATORS)
def user_history(user_id: int) -> ResponseReturnValue:
    """One user: card, comments, notes and the full history of decisions about them."""
    return _user_page(user_id)


def _user_page(
    user_id: int, status: int = 200, note_form: ModeratorForm | None = None
) -> ResponseReturnValue:
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
    return (
        render_template(
            "moderator/user.html",
            user=user,
            comments=recent,
            notes=notes,
            history=triage.history(session, "user", user.id),
            actors=stats.actor_names(session),
            note_form=note_form or UserNoteForm(formdata=None),
        ),
        status,
    )


@bp.get("/woorden")
@role_required(*MODERATORS)
def words() -> ResponseReturnValue:
    """Runtime word-list changes on top of the shipped lists."""
    return _words_page(WordForm(formdata=None))


def _words_page(form: WordForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    # The lists by their Dutch names (the form module cannot import the views' labels).
    form.list.choices = choices(
        {name: LIST_LABELS_NL.get(name, name) for name in runtime.LIST_NAMES}
    )
    entries = list(session.scalars(select(LexiconEntry).order_by(LexiconEntry.created_at.desc())))
    return (
        render_template(
            "moderator/words.html",
            entries=entries,
            version=runtime.read_version(session),
            form=form,
            button=DecisionForm(formdata=None),
        ),
        status,
    )


@bp.post("/woorden")
@role_required(*MODERATORS)
def add_word() -> ResponseReturnValue:
    session = get_session()
    form = WordForm()
    try:
        _valid(form)
        entry, version = runtime.add_entry(
            session, current_user, LexiconAction(form.action.data), form.word.data, form.list.data
        )
    except DomainError as exc:
        session.rollback()
        if wants_json():
            raise
        form.refuse(exc)
        return _words_page(form, exc.status_code)
    session.commit()
    lexicon_refresher().publish(version)
    return _done(form, f"Woordenlijst bijgewerkt ({entry.word}).", {"version": version})


@bp.post("/woorden/<int:entry_id>/verwijderen")
@role_required(*MODERATORS)
def remove_word(entry_id: int) -> ResponseReturnValue:
    session = get_session()
    form = DecisionForm()
    version = runtime.remove_entry(session, current_user, entry_id)
    session.commit()
    lexicon_refresher().publish(version)
    return _done(form, "Regel verwijderd uit de woordenlijst.", {"version": version})


@bp.get("/statistieken")
@role_required(*MODERATORS)
def statistics() -> ResponseReturnValue:
    """Decisions per hour, per moderator and per reason; waiting time over time."""
    hours = request.args.get("uren", 48, type=int) or 48
    hours = min(max(hours, 6), 24 * 14)
    return render_template("moderator/stats.html", report=stats.build(get_session(), hours))
