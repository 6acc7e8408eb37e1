"""/beheer/: admins manage users and roles, the scoring model's thresholds, and download the
transparency report."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from redis.exceptions import RedisError
from werkzeug.datastructures import MultiDict

from accounts import services
from db import get_session
from dsa import transparency as transparency_report
from errors import DomainError, wants_json
from forms.admin import AccountStatusForm, RoleForm, ScorerThresholdsForm
from forms.notices import TransparencyForm
from models import Role, utcnow
from models.notice import NOTICE_GROUND_LABELS_NL
from parsing import page_number
from scoring.breaker import CLOSED, HALF_OPEN, OPEN, breaker_for
from scoring.client import ScorerTarget
from scoring.jobs import job_counts
from scoring.thresholds import load_thresholds, save_thresholds
from security import role_required
from wiring import redis_client

bp = Blueprint("admin", __name__, url_prefix="/beheer")
PER_PAGE = 50


def _role_arg(raw: str | None) -> Role | None:
    try:
        return Role(raw) if raw else None
    except ValueError:
        return None


def _back(form: RoleForm | AccountStatusForm) -> str:
    """Return to the list the admin came from (a local path only)."""
    back = form.back.data or ""
    return back if back.startswith("/beheer/") and "//" not in back else url_for("admin.users")


@bp.get("/")
@role_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    """List and search users."""
    return _users_page(request.args)


def _users_page(
    args: MultiDict[str, str],
    status: int = 200,
    failed_user: int | None = None,
    role_form: RoleForm | None = None,
    status_form: AccountStatusForm | None = None,
) -> ResponseReturnValue:
    """The list; a refused change comes back on its user's row, the choice kept, the reason
    beside it (`failed_user`)."""
    query = args.get("q", "")[:100]
    role = _role_arg(args.get("rol"))
    page = page_number(args.get("pagina"))
    rows, total = services.search_users(get_session(), query, role, page, PER_PAGE)
    return (
        render_template(
            "admin/users.html",
            users=rows,
            total=total,
            query=query,
            role=role,
            roles=list(Role),
            role_form=RoleForm(formdata=None),
            status_form=AccountStatusForm(formdata=None),
            failed_user=failed_user,
            failed_role_form=role_form,
            failed_status_form=status_form,
            page=page,
            pages=max(1, -(-total // PER_PAGE)),
        ),
        status,
    )


def _refused(
    user_id: int, error: DomainError, form: RoleForm | AccountStatusForm
) -> ResponseReturnValue:
    """JSON clients and unknown users get the error; the page comes back as the list the admin
    was on, with the reason on the user's row."""
    get_session().rollback()
    if wants_json() or error.status_code == 404:
        raise error
    form.refuse(error)
    args = MultiDict(parse_qsl(urlsplit(_back(form)).query))
    if isinstance(form, RoleForm):
        return _users_page(args, error.status_code, user_id, role_form=form)
    return _users_page(args, error.status_code, user_id, status_form=form)


@bp.post("/gebruikers/<int:user_id>/rol")
@role_required(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role."""
    form = RoleForm()
    if not form.validate():
        return _refused(user_id, form.invalid(), form)
    role = Role(form.role.data)
    session = get_session()
    try:
        user = services.set_role(session, current_user, user_id, role)
    except DomainError as exc:
        return _refused(user_id, exc, form)
    session.commit()
    flash(f"{user.username} is nu {role.label_nl}.", "success")
    return redirect(_back(form)), 303


@bp.post("/gebruikers/<int:user_id>/status")
@role_required(Role.ADMIN)
def change_status(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account."""
    form = AccountStatusForm()
    if not form.validate():
        return _refused(user_id, form.invalid(), form)
    active = form.active.data == "1"
    session = get_session()
    try:
        user = services.set_active(session, current_user, user_id, active)
    except DomainError as exc:
        return _refused(user_id, exc, form)
    session.commit()
    flash(
        f"{user.username} is {'opnieuw actief' if active else 'gedeactiveerd'}.",
        "success",
    )
    return redirect(_back(form)), 303


# ---------------------------------------------------------------- the scoring model

BREAKER_NL = {
    CLOSED: "gesloten: reacties gaan naar het model",
    OPEN: "open: het model krijgt even niets (te veel fouten na elkaar)",
    HALF_OPEN: "half open: één proefoproep beslist",
}


def _scorer_page(form: ScorerThresholdsForm, status: int = 200) -> ResponseReturnValue:
    settings = current_app.config
    client = redis_client()
    target = ScorerTarget.from_settings(settings)
    breaker = None
    if target is not None and client is not None:  # without Redis each worker has its own
        try:
            breaker = BREAKER_NL[breaker_for(settings, client).state(utcnow().timestamp())]
        except RedisError:
            breaker = "onbekend: Redis antwoordt niet"
    return (
        render_template(
            "admin/scorer.html",
            form=form,
            host=urlsplit(target.url).netloc if target else None,
            timeout_ms=settings["TRIBUNE_SCORER_TIMEOUT_MS"],
            breaker=breaker,
            counts=job_counts(get_session()),
        ),
        status,
    )


@bp.get("/scoremodel")
@role_required(Role.ADMIN)
def scorer() -> ResponseReturnValue:
    """The scoring model: whether one is set, its breaker, its jobs, and the thresholds."""
    return _scorer_page(ScorerThresholdsForm.filled(load_thresholds(get_session())))


@bp.post("/scoremodel")
@role_required(Role.ADMIN)
def save_scorer() -> ResponseReturnValue:
    """Store the thresholds (a value outside 0–1 comes back beside its field, as typed)."""
    form = ScorerThresholdsForm()
    session = get_session()
    try:
        if not form.validate():
            raise form.invalid()
        save_thresholds(session, current_user, form.thresholds())
    except DomainError as exc:
        session.rollback()
        if wants_json():
            raise
        form.refuse(exc)
        return _scorer_page(form, exc.status_code)
    session.commit()
    flash("Drempels van het scoremodel bewaard.", "success")
    return redirect(url_for("admin.scorer")), 303


@bp.get("/transparantie")
@role_required(Role.ADMIN)
def transparency() -> ResponseReturnValue:
    """The transparency report (DSA art. 24) of a period: on the page, or as CSV or JSON."""
    form = TransparencyForm(request.args)
    if not request.args:
        return render_template("admin/transparency.html", form=form, report=None)
    chosen = None
    if form.validate():
        try:
            chosen = transparency_report.period(form.van.data, form.tot.data)
        except DomainError as exc:
            form.refuse(exc)
    if chosen is None:
        if wants_json():
            raise form.invalid()
        return render_template("admin/transparency.html", form=form, report=None), 422
    report = transparency_report.build_report(get_session(), chosen)
    fmt = form.formaat.data
    if fmt in transparency_report.FORMATS:
        body = report.to_csv() if fmt == "csv" else report.to_json()
        name = f"transparantie-{chosen.first.isoformat()}-{chosen.last.isoformat()}.{fmt}"
        return Response(
            body,
            mimetype="text/csv" if fmt == "csv" else "application/json",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "private, no-store",
            },
        )
    return render_template(
        "admin/transparency.html",
        form=form,
        report=report,
        kind_labels=transparency_report.DECISION_KIND_LABELS_NL,
        ground_labels=NOTICE_GROUND_LABELS_NL,
    )
