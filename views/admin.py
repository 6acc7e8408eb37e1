"""/beheer/: admins manage users and roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounts import services
from db import get_session
from forms.admin import AccountStatusForm, RoleForm
from models import Role
from parsing import page_number
from security import role_required

bp = Blueprint("admin", __name__, url_prefix="/beheer")
PER_PAGE = 50


def _role_arg(raw: str | None) -> Role | None:
    try:
        return Role(raw) if raw else None
    except ValueError:
        return None


def _back(form: RoleForm | AccountStatusForm) -> str:
    """Return to the list the admin came from (a local path only). Nothing is typed on these
    forms (a choice, a button), so a refusal is the error page rather than the list again."""
    back = form.back.data or ""
    return back if back.startswith("/beheer/") and "//" not in back else url_for("admin.users")


@bp.get("/")
@role_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    """List and search users."""
    query = request.args.get("q", "")[:100]
    role = _role_arg(request.args.get("rol"))
    page = page_number(request.args.get("pagina"))
    rows, total = services.search_users(get_session(), query, role, page, PER_PAGE)
    return render_template(
        "admin/users.html",
        users=rows,
        total=total,
        query=query,
        role=role,
        roles=list(Role),
        role_form=RoleForm(formdata=None),
        status_form=AccountStatusForm(formdata=None),
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
    )


@bp.post("/gebruikers/<int:user_id>/rol")
@role_required(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role."""
    form = RoleForm()
    if not form.validate():
        raise form.invalid()
    role = Role(form.role.data)
    session = get_session()
    user = services.set_role(session, current_user, user_id, role)
    session.commit()
    flash(f"{user.username} is nu {role.label_nl}.", "success")
    return redirect(_back(form)), 303


@bp.post("/gebruikers/<int:user_id>/status")
@role_required(Role.ADMIN)
def change_status(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account."""
    form = AccountStatusForm()
    if not form.validate():
        raise form.invalid()
    active = form.active.data == "1"
    session = get_session()
    user = services.set_active(session, current_user, user_id, active)
    session.commit()
    flash(
        f"{user.username} is {'opnieuw actief' if active else 'gedeactiveerd'}.",
        "success",
    )
    return redirect(_back(form)), 303
