"""/beheer/: admins manage users and roles."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounts import services
from db import get_session
from errors import Invalid
from models import Role
from security import role_required

bp = Blueprint("admin", __name__, url_prefix="/beheer")
PER_PAGE = 50


def _role_arg(raw: str | None) -> Role | None:
    try:
        return Role(raw) if raw else None
    except ValueError:
        return None


def _back() -> str:
    """Return to the list the admin came from (a local path only)."""
    back = request.form.get("back", "")
    return back if back.startswith("/beheer/") and "//" not in back else url_for("admin.users")


@bp.get("/")
@role_required(Role.ADMIN)
def users() -> ResponseReturnValue:
    """List and search users."""
    query = request.args.get("q", "")[:100]
    role = _role_arg(request.args.get("rol"))
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    rows, total = services.search_users(get_session(), query, role, page, PER_PAGE)
    return render_template(
        "admin/users.html",
        users=rows,
        total=total,
        query=query,
        role=role,
        roles=list(Role),
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
    )


@bp.post("/gebruikers/<int:user_id>/rol")
@role_required(Role.ADMIN)
def change_role(user_id: int) -> ResponseReturnValue:
    """Give a user another role."""
    role = _role_arg(request.form.get("role"))
    if role is None:
        raise Invalid("invalid_role", "Kies een geldige rol.")
    session = get_session()
    user = services.set_role(session, current_user, user_id, role)
    session.commit()
    flash(f"{user.username} is nu {role.label_nl}.", "success")
    return redirect(_back()), 303


@bp.post("/gebruikers/<int:user_id>/status")
@role_required(Role.ADMIN)
def change_status(user_id: int) -> ResponseReturnValue:
    """Deactivate or reactivate an account."""
    active = request.form.get("active") == "1"
    session = get_session()
    user = services.set_active(session, current_user, user_id, active)
    session.commit()
    flash(
        f"{user.username} is {'opnieuw actief' if active else 'gedeactiveerd'}.",
        "success",
    )
    return redirect(_back()), 303
