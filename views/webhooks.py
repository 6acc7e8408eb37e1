"""/beheer/webhooks: admins register the newsroom's webhook endpoints and watch deliveries."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_login import current_user

from db import get_session
from errors import DomainError, wants_json
from forms.base import ButtonForm, ConfirmForm
from forms.webhooks import SwitchForm, WebhookForm
from models import Role, WebhookEndpoint
from security import role_required
from webhooks import endpoints
from webhooks.delivery import delivery_log, retry_delivery
from webhooks.endpoints import UrlPolicy

bp = Blueprint("webhooks", __name__, url_prefix="/beheer/webhooks")
NEW_SECRET_KEY = "tribune_new_webhook_secret"
LOG_SIZE = 25


def _policy() -> UrlPolicy:
    return UrlPolicy.from_config(current_app.config)


def _show_secret_once(endpoint: WebhookEndpoint) -> None:
    """Post-redirect-get: the secret travels to the next view of the endpoint's page in the
    signed, HttpOnly session cookie (never in a URL), which shows it once and drops it."""
    cookie_session[NEW_SECRET_KEY] = {"endpoint_id": endpoint.id, "secret": endpoint.secret}


@bp.get("")
@role_required(Role.ADMIN)
def index() -> ResponseReturnValue:
    """Every endpoint, and the form to register one."""
    return _render_index(WebhookForm(formdata=None))


def _render_index(form: WebhookForm, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/webhooks.html",
            endpoints=endpoints.list_endpoints(get_session()),
            form=form,
            switch_form=SwitchForm(formdata=None),
            event_labels=endpoints.WEBHOOK_EVENTS,
        ),
        status,
    )


@bp.post("")
@role_required(Role.ADMIN)
def create() -> ResponseReturnValue:
    """Register an endpoint; its page shows the secret once."""
    form = WebhookForm()
    session = get_session()
    try:
        if not form.validate():
            raise form.invalid()
        endpoint = endpoints.create_endpoint(
            session,
            current_user,
            form.url.data or "",
            form.description.data,
            form.events.data or [],
            _policy(),
            enabled=bool(form.enabled.data),
        )
    except DomainError as exc:
        session.rollback()
        if wants_json():
            raise
        form.refuse(exc)
        return _render_index(form, exc.status_code)
    session.commit()
    _show_secret_once(endpoint)
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint.id)), 303


@bp.get("/<int:endpoint_id>")
@role_required(Role.ADMIN)
def endpoint(endpoint_id: int) -> ResponseReturnValue:
    """One endpoint: its settings, buttons and the delivery log."""
    found = endpoints.get_endpoint(get_session(), endpoint_id)
    created = cookie_session.pop(NEW_SECRET_KEY, None)
    secret = (
        created.get("secret")
        if isinstance(created, dict) and created.get("endpoint_id") == endpoint_id
        else None
    )
    form = WebhookForm(formdata=None, obj=found)
    page, status = _render_endpoint(found, form, new_secret=secret)
    return page, status, {"Cache-Control": "private, no-store"}


def _render_endpoint(
    found: WebhookEndpoint,
    form: WebhookForm,
    status: int = 200,
    new_secret: str | None = None,
) -> tuple[str, int]:
    return (
        render_template(
            "admin/webhook.html",
            endpoint=found,
            form=form,
            button=ButtonForm(formdata=None),
            new_secret=new_secret,
            log=delivery_log(get_session(), found.id, LOG_SIZE),
            event_labels=endpoints.WEBHOOK_EVENTS,
            grace_hours=current_app.config["TRIBUNE_WEBHOOK_SECRET_GRACE_HOURS"],
        ),
        status,
    )


@bp.post("/<int:endpoint_id>")
@role_required(Role.ADMIN)
def update(endpoint_id: int) -> ResponseReturnValue:
    """Change an endpoint's URL, description, events and whether it is on."""
    form = WebhookForm()
    session = get_session()
    try:
        if not form.validate():
            raise form.invalid()
        endpoints.update_endpoint(
            session,
            endpoint_id,
            form.url.data or "",
            form.description.data,
            form.events.data or [],
            _policy(),
            enabled=bool(form.enabled.data),
        )
    except DomainError as exc:
        session.rollback()
        if wants_json() or exc.status_code == 404:
            raise
        form.refuse(exc)
        return _render_endpoint(endpoints.get_endpoint(session, endpoint_id), form, exc.status_code)
    session.commit()
    flash("Eindpunt bijgewerkt.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id)), 303


def _button() -> None:
    """One-button actions carry only the CSRF token."""
    form = ButtonForm()
    if not form.validate():
        raise form.invalid()


@bp.post("/<int:endpoint_id>/status")
@role_required(Role.ADMIN)
def switch(endpoint_id: int) -> ResponseReturnValue:
    """Switch an endpoint on (aan=1) or off (aan=0)."""
    form = SwitchForm()
    if not form.validate():
        raise form.invalid()
    enabled = form.aan.data == "1"
    session = get_session()
    endpoints.set_enabled(session, endpoint_id, enabled)
    session.commit()
    flash("Eindpunt staat aan." if enabled else "Eindpunt staat uit.", "success")
    if form.terug.data == "lijst":
        return redirect(url_for("webhooks.index")), 303
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id)), 303


@bp.post("/<int:endpoint_id>/geheim")
@role_required(Role.ADMIN)
def rotate(endpoint_id: int) -> ResponseReturnValue:
    """A new secret, shown once; the old one signs beside it during the grace period."""
    _button()
    session = get_session()
    grace = timedelta(hours=current_app.config["TRIBUNE_WEBHOOK_SECRET_GRACE_HOURS"])
    found = endpoints.rotate_secret(session, endpoint_id, grace)
    session.commit()
    _show_secret_once(found)
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id)), 303


@bp.post("/<int:endpoint_id>/test")
@role_required(Role.ADMIN)
def send_test(endpoint_id: int) -> ResponseReturnValue:
    """Queue a `webhook.test` delivery to this endpoint."""
    _button()
    session = get_session()
    endpoints.send_test(session, endpoint_id)
    session.commit()
    flash("Testgebeurtenis verstuurd; het resultaat verschijnt hieronder.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id)), 303


@bp.route("/<int:endpoint_id>/verwijderen", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def delete(endpoint_id: int) -> ResponseReturnValue:
    """Delete in two steps: GET (or a POST without the confirmation) asks; only "yes" deletes."""
    session = get_session()
    form = ConfirmForm()
    if request.method == "GET" or not form.confirmed():
        return render_template(
            "admin/webhook_delete.html",
            endpoint=endpoints.get_endpoint(session, endpoint_id),
            form=ConfirmForm(formdata=None),
        )
    endpoints.delete_endpoint(session, endpoint_id)
    session.commit()
    flash("Eindpunt verwijderd.", "success")
    return redirect(url_for("webhooks.index")), 303


@bp.post("/<int:endpoint_id>/berichten/<int:message_id>/opnieuw")
@role_required(Role.ADMIN)
def retry(endpoint_id: int, message_id: int) -> ResponseReturnValue:
    """Send a failed or dead delivery again (now)."""
    _button()
    session = get_session()
    retry_delivery(session, endpoint_id, message_id)
    session.commit()
    flash("Levering opnieuw ingepland.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id)), 303
