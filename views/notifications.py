"""Notification settings (/profiel/meldingen) and the one-click unsubscribe link of every
notification mail (/meldingen/afmelden/<token>, RFC 8058: POST without login or CSRF token)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from db import get_session
from errors import DomainError
from extensions import csrf
from forms.notifications import NotificationSettingsForm
from notifications import preferences
from security import login_required_any

bp = Blueprint("notifications", __name__)


def _render_settings(form: NotificationSettingsForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    user = current_user._get_current_object()
    return (
        render_template(
            "notifications/settings.html",
            form=form,
            address=preferences.notification_address(session, user),
            verified=preferences.address_verified(user),
            defaults=preferences.DEFAULTS,
        ),
        status,
    )


@bp.get("/profiel/meldingen")
@login_required_any
def preferences_page() -> ResponseReturnValue:
    """Which notifications the account gets by mail: per kind meteen, dagelijks, nooit."""
    user = current_user._get_current_object()
    chosen = preferences.current_choices(get_session(), user)
    form = NotificationSettingsForm(
        user, formdata=None, data={kind.value: delivery.value for kind, delivery in chosen.items()}
    )
    return _render_settings(form)


@bp.post("/profiel/meldingen")
@login_required_any
def save_preferences() -> ResponseReturnValue:
    """Store the choices (the typed choices come back beside their errors when refused)."""
    user = current_user._get_current_object()
    form = NotificationSettingsForm(user)
    if not form.validate():
        return _render_settings(form, 422)
    session = get_session()
    try:
        preferences.save_choices(session, user, form.chosen())
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return _render_settings(form, exc.status_code)
    session.commit()
    flash("Je keuzes voor meldingen zijn bewaard.", "success")
    return redirect(url_for("notifications.preferences_page")), 303


@bp.get("/meldingen/afmelden/<token>")
def unsubscribe_confirm(token: str) -> ResponseReturnValue:
    """The link in a mail: a page that asks to confirm (a link checker's GET changes nothing)."""
    session = get_session()
    user, name = preferences.unsubscribe_target(session, token)
    kinds = preferences.kinds_named(session, user, name)
    return render_template(
        "notifications/unsubscribe.html", token=token, kinds=kinds, digest=name == "digest"
    )


@bp.post("/meldingen/afmelden/<token>")
@csrf.exempt
def unsubscribe(token: str) -> ResponseReturnValue:
    """One click (RFC 8058): the mail client's POST, or the confirm page's button, sets the
    kinds the signed token names to "nooit". No login, no CSRF token: the token is the proof."""
    session = get_session()
    _user, kinds = preferences.unsubscribe(session, token)
    session.commit()
    return render_template("notifications/unsubscribed.html", kinds=kinds)
