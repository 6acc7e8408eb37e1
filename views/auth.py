"""Login, logout, registration and the user's own profile (password, API tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select

from accounts import services
from db import get_session
from errors import DomainError, error_response, wants_json
from extensions import limiter, limits_checked
from models import ApiToken, Role
from security import login_required_any, role_required

bp = Blueprint("auth", __name__)


def configure_login(manager: LoginManager) -> None:
    """Load users from the session; anonymous visitors go to /login (pages) or get 401 (API)."""
    manager.login_view = "auth.login"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(user_key: str):  # type: ignore[no-untyped-def]
        return services.load_user(get_session(), user_key)

    @manager.unauthorized_handler
    def _unauthorized():  # type: ignore[no-untyped-def]
        if wants_json():
            return error_response(401, "login_required", "Je moet aangemeld zijn.")
        flash("Meld je aan om verder te gaan.", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login; anything else goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("pages.index")
    return target


def _login_account_key() -> str:
    return "login-account:" + services.username_key(request.form.get("login", ""))[:64]


def _failed(response) -> bool:  # type: ignore[no-untyped-def]
    # Only failed attempts count against the throttle; a successful login redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limits_checked
@limiter.limit(
    lambda: current_app.config["TRIBUNE_LOGIN_LIMIT_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["TRIBUNE_LOGIN_LIMIT_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
)
def login():  # type: ignore[no-untyped-def]
    """Log in by username or e-mail."""
    next_url = request.values.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(next_url))
    error = None
    if request.method == "POST":
        session = get_session()
        user = services.authenticate(
            session,
            request.form.get("login", ""),
            request.form.get("password", ""),
            current_app.config["TRIBUNE_PASSWORD_METHOD"],
        )
        if user is not None:
            session.commit()
            login_user(user, remember=request.form.get("remember") == "on")
            return redirect(safe_next(next_url))
        # The same message whether the account exists or not: no user enumeration.
        error = "Gebruikersnaam of wachtwoord klopt niet."
    return render_template(
        "auth/login.html", error=error, next=next_url, login=request.form.get("login", "")
    )


@bp.post("/uitloggen")
def logout():  # type: ignore[no-untyped-def]
    """Log out (POST with a CSRF token, so a link on another site cannot log you out)."""
    logout_user()
    flash("Je bent afgemeld.", "info")
    return redirect(url_for("pages.index"))


@bp.route("/registreren", methods=["GET", "POST"])
@limits_checked
@limiter.limit(lambda: current_app.config["TRIBUNE_REGISTER_LIMIT_IP"], methods=["POST"])
def register():  # type: ignore[no-untyped-def]
    """Create a fan account and log it in."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    error = field = None
    status = 200
    if request.method == "POST":
        session = get_session()
        registration = services.Registration(
            username=request.form.get("username", ""),
            email=request.form.get("email", ""),
            password=request.form.get("password", ""),
        )
        try:
            if request.form.get("password") != request.form.get("password_repeat"):
                raise DomainError(
                    "password_mismatch",
                    "De wachtwoorden zijn niet gelijk.",
                    422,
                    details={"field": "password_repeat"},
                )
            user = services.register_user(
                session,
                registration,
                current_app.config["TRIBUNE_PASSWORD_METHOD"],
                username_check=current_app.extensions.get("tribune.username_check"),
            )
        except DomainError as exc:
            session.rollback()
            error, field = exc.message, (exc.details or {}).get("field")
            status = exc.status_code
        else:
            session.commit()
            login_user(user)
            flash("Welkom bij Tribune! Je account is aangemaakt.", "success")
            return redirect(safe_next(request.args.get("next")))
    return (
        render_template("auth/register.html", error=error, field=field, form=request.form),
        status,
    )


@bp.get("/profiel")
@login_required_any
def profile():  # type: ignore[no-untyped-def]
    """The user's profile: password change and, for editors, API tokens."""
    tokens = []
    if current_user.role in (Role.EDITOR, Role.ADMIN):
        tokens = get_session().scalars(
            select(ApiToken)
            .where(ApiToken.user_id == current_user.id)
            .order_by(ApiToken.created_at.desc())
        )
    return render_template("auth/profile.html", tokens=list(tokens), new_token=None)


@bp.post("/profiel/wachtwoord")
@login_required_any
def change_password():  # type: ignore[no-untyped-def]
    """Change the password; other sessions end, this one stays logged in."""
    session = get_session()
    try:
        services.change_password(
            session,
            current_user,
            request.form.get("current", ""),
            request.form.get("new", ""),
            current_app.config["TRIBUNE_PASSWORD_METHOD"],
        )
    except DomainError as exc:
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("auth.profile")), 303
    session.commit()
    # Store the new session version in this session so it stays logged in.
    login_user(current_user._get_current_object(), remember=False)
    flash("Je wachtwoord is gewijzigd. Andere sessies zijn afgemeld.", "success")
    return redirect(url_for("auth.profile")), 303


@bp.post("/profiel/sleutels")
@role_required(Role.EDITOR, Role.ADMIN)
def create_token():  # type: ignore[no-untyped-def]
    """Create an editor API token and show it once."""
    session = get_session()
    token, plain = services.create_api_token(session, current_user, request.form.get("name", ""))
    session.commit()
    tokens = session.scalars(
        select(ApiToken)
        .where(ApiToken.user_id == current_user.id)
        .order_by(ApiToken.created_at.desc())
    )
    response = render_template(
        "auth/profile.html", tokens=list(tokens), new_token=plain, new_token_name=token.name
    )
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/profiel/sleutels/<int:token_id>/intrekken")
@role_required(Role.EDITOR, Role.ADMIN)
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    """Revoke one of your API tokens."""
    session = get_session()
    services.revoke_api_token(session, current_user, token_id)
    session.commit()
    flash("De sleutel is ingetrokken.", "success")
    return redirect(url_for("auth.profile")), 303


@bp.get("/profiel/meldingen")
@login_required_any
def my_reports():  # type: ignore[no-untyped-def]
    """What happened to the comments this reader reported."""
    from moderation.actions import report_outcomes

    return render_template(
        "auth/reports.html", reports=report_outcomes(get_session(), current_user)
    )
