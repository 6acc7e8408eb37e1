"""/beheer/bezorging: the outbox's messages by state, with a retry button; /beheer/mail: the
mails of the development file transport."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from db import get_session
from errors import DomainError, wants_json
from forms.base import ButtonForm
from lookups import get_or_404
from models import MessageState, OutboxMessage, Role
from outbox import retry_message
from outbox.mail import uses_files
from outbox.mailbox import list_mails, read_mail
from outbox.queries import attempts_of, list_messages, state_counts
from parsing import page_number
from security import role_required

bp = Blueprint("deliveries", __name__, url_prefix="/beheer")
PER_PAGE = 50


def _state_arg(raw: str | None) -> MessageState | None:
    try:
        return MessageState(raw) if raw else None
    except ValueError:
        return None


@bp.get("/bezorging")
@role_required(Role.ADMIN)
def messages() -> ResponseReturnValue:
    """Pending, sent, failed and dead deliveries, newest first."""
    session = get_session()
    state = _state_arg(request.args.get("toestand"))
    page = page_number(request.args.get("pagina"))
    rows, total = list_messages(session, state, page, PER_PAGE)
    return render_template(
        "admin/deliveries.html",
        messages=rows,
        counts=state_counts(session),
        state=state,
        states=list(MessageState),
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        total=total,
        button=ButtonForm(formdata=None),
        files=uses_files(current_app.config),
    )


@bp.get("/bezorging/<int:message_id>")
@role_required(Role.ADMIN)
def message(message_id: int) -> ResponseReturnValue:
    """One delivery and every attempt (the receiver's codes and errors)."""
    session = get_session()
    found = get_or_404(
        session, OutboxMessage, message_id, "message_not_found", "Dit bericht bestaat niet (meer)."
    )
    return render_template(
        "admin/delivery.html",
        message=found,
        attempts=attempts_of(session, found.id),
        button=ButtonForm(formdata=None),
    )


@bp.post("/bezorging/<int:message_id>/opnieuw")
@role_required(Role.ADMIN)
def retry(message_id: int) -> ResponseReturnValue:
    """Send a failed or given-up message again, with a full set of attempts."""
    session = get_session()  # the CSRF token is checked for every POST (CSRFProtect)
    try:
        retry_message(session, message_id)
    except DomainError as error:
        session.rollback()
        if wants_json() or error.status_code == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("deliveries.message", message_id=message_id), 303)
    session.commit()
    flash("Het bericht wordt opnieuw verstuurd.", "success")
    return redirect(url_for("deliveries.message", message_id=message_id), 303)


def _mail_directory() -> Path:
    if not uses_files(current_app.config):
        abort(404)
    return Path(current_app.config["TRIBUNE_MAIL_DIRECTORY"])


@bp.get("/mail")
@role_required(Role.ADMIN)
def mails() -> ResponseReturnValue:
    """Development: the mails written as .eml files (MAIL_URL unset)."""
    return render_template("admin/mails.html", mails=list_mails(_mail_directory()))


@bp.get("/mail/<name>")
@role_required(Role.ADMIN)
def mail(name: str) -> ResponseReturnValue:
    """Development: one stored mail, its text and its links."""
    found = read_mail(_mail_directory(), name)
    if found is None:
        abort(404)
    return render_template("admin/mail.html", mail=found)
