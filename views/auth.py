"""Login, logout, registration and the user's own profile (password, API tokens, the data
export and deleting the account)."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Request,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as cookie_session
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from accounts import care, remember, services
from db import get_session, in_write_transaction, session_scope
from dsa.complaints import complaint_refusal
from dsa.links import complaint_path
from dsa.notices import notices_by
from errors import DomainError, error_response, wants_json
from extensions import limiter, limits_checked
from forms.accounts import (
    DeleteAccountForm,
    DeleteSsoAccountForm,
    EmailChangeForm,
    LoginForm,
    PasswordChangeForm,
    RegistrationForm,
    TokenForm,
)
from forms.base import ButtonForm
from forms.polls import VoteBadgeForm
from models import ApiToken, Role, User, utcnow
from moderation.actions import report_outcomes
from privacy import deletion
from privacy.export import export_user_data
from security import current_ip_hash, login_required_any, role_required, serves_https
from views.api import bp as api_bp
from views.api import load_token_user
from views.embed_auth import load_embed_user, presents_embed_token

bp = Blueprint("auth", __name__)
NEW_TOKEN_KEY = "tribune_new_token"


def configure_login(manager: LoginManager) -> None:
    """Load users from the session, else from an API token (API) or a remember-me cookie;
    anonymous visitors go to /login (pages) or get 401 (API)."""
    manager.login_view = "auth.login"
    manager.session_protection = "basic"

    @manager.user_loader
    def _load(user_key: str) -> User | None:
        return services.load_user(get_session(), user_key)

    @manager.request_loader
    def _load_from_request(request: Request) -> User | None:
        if "Authorization" in request.headers:
            if presents_embed_token(request):
                return load_embed_user(request)
            if request.blueprint == api_bp.name:
                return load_token_user(request)
        return _load_remembered(request)

    @manager.unauthorized_handler
    def _unauthorized() -> ResponseReturnValue:
        if wants_json():
            return error_response(401, "login_required", "Je moet aangemeld zijn.")
        flash("Meld je aan om verder te gaan.", "info")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


# Tribune's own remember-me cookie (Flask-Login's is not used: it cannot rotate). Its value is
# "<id>.<secret>" of a remember_tokens row (accounts.remember).
REMEMBER_COOKIE = "tribune_remember"


def _remember_lifetime() -> timedelta:
    duration = current_app.config["REMEMBER_COOKIE_DURATION"]
    return duration if isinstance(duration, timedelta) else timedelta(seconds=int(duration))


def _load_remembered(request: Request) -> User | None:
    """The user a remember-me cookie restores; the cookie is replaced in the answer (rotation)
    and this browser gets a new session. None for a missing, used or ended cookie."""
    value = request.cookies.get(REMEMBER_COOKIE)
    if not value or current_app.session_interface.skips(current_app, request):  # type: ignore[attr-defined]
        return None  # a sessionless answer keeps no session and sets no cookie
    session = get_session()
    now = utcnow()
    if in_write_transaction(session):
        # A second writer would wait on this one's lock (SQLite): rotate in the request's
        # transaction. Pages restore on their first GET, so this is rare.
        restored = remember.use(session, value, _remember_lifetime(), now)
    else:
        # Its own short write, as for a token's use: a read request's SQLite snapshot could not
        # become a writer once another worker committed.
        with session_scope(current_app) as writer:
            restored = remember.use(writer, value, _remember_lifetime(), now)
    if restored is remember.Refused.DEAD:
        g.remember_cookie = ""  # clear the dead cookie
    if not isinstance(restored, remember.Restored):
        return None
    user = services.load_user(session, restored.user_key)
    if user is None:
        return None
    login_user(user, fresh=False)  # this browser has a session again
    g.remember_cookie = restored.cookie
    return user


def remember_browser(user: User) -> None:
    """Give this browser a remember-me token (set on the answer by _set_remember_cookie)."""
    g.remember_cookie = remember.issue(get_session(), user, _remember_lifetime(), utcnow())


def forget_browser() -> None:
    """End this browser's remember-me token and clear its cookie."""
    value = request.cookies.get(REMEMBER_COOKIE)
    if value:
        remember.forget(get_session(), value)
        g.remember_cookie = ""


@bp.after_app_request
def _set_remember_cookie(response: BaseResponse) -> BaseResponse:
    """Set (or clear, when empty) the remember-me cookie this request decided on."""
    value = g.pop("remember_cookie", None)
    if value is None:
        return response
    if not value:
        response.delete_cookie(REMEMBER_COOKIE, path="/", httponly=True, samesite="Lax")
        return response
    response.set_cookie(
        REMEMBER_COOKIE,
        value,
        max_age=int(_remember_lifetime().total_seconds()),
        path="/",
        secure=serves_https(),
        httponly=current_app.config["REMEMBER_COOKIE_HTTPONLY"],
        samesite=current_app.config["REMEMBER_COOKIE_SAMESITE"],
    )
    return response


def safe_next(target: str | None) -> str:
    """Only local paths are followed after login; anything else goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.index")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in target):
        # CR/LF would split the Location header (Werkzeug refuses it: a 500); other control
        # characters have no place in a path either.
        return url_for("pages.index")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return url_for("pages.index")
    return target


# A browser that signed in to an account before carries this cookie (signed, naming the account
# by a hash): the account-wide login limit does not apply to it, so attempts from elsewhere
# cannot keep the owner out (the per (account, IP) and per IP limits still do).
KNOWN_LOGIN_COOKIE = "tribune_known_login"
KNOWN_LOGIN_MAX_AGE = 365 * 24 * 3600


def _login_name() -> str:
    return services.username_key(request.form.get("login", ""))[:64]


def _login_account_key() -> str:
    return "login-account:" + _login_name()


def _login_account_ip_key() -> str:
    return f"login-account-ip:{_login_name()}:{current_ip_hash()}"


def _known_login_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="tribune-known-login")


def _account_digest(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def _known_browser() -> bool:
    raw = request.cookies.get(KNOWN_LOGIN_COOKIE)
    if not raw or len(raw) > 200:
        return False
    try:
        known: object = _known_login_serializer().loads(raw)
    except BadSignature:
        return False
    return bool(known == _account_digest(_login_name()))


def _remember_browser(response: BaseResponse) -> BaseResponse:
    response.set_cookie(
        KNOWN_LOGIN_COOKIE,
        _known_login_serializer().dumps(_account_digest(_login_name())),
        max_age=KNOWN_LOGIN_MAX_AGE,
        path=url_for("auth.login"),
        secure=serves_https(),
        httponly=True,
        samesite="Lax",
    )
    return response


def _failed(response: Response) -> bool:
    # Only failed attempts count against the throttle; a successful login redirects, and an
    # attempt a limit refused (429) tried no password.
    return response.status_code not in (302, 429)


@bp.route("/login", methods=["GET", "POST"])
@limits_checked
@limiter.limit(
    lambda: current_app.config["TRIBUNE_LOGIN_LIMIT_IP"], methods=["POST"], deduct_when=_failed
)
@limiter.limit(
    lambda: current_app.config["TRIBUNE_LOGIN_LIMIT_ACCOUNT_IP"],
    key_func=_login_account_ip_key,
    methods=["POST"],
    deduct_when=_failed,
)
@limiter.limit(
    lambda: current_app.config["TRIBUNE_LOGIN_LIMIT_ACCOUNT"],
    key_func=_login_account_key,
    methods=["POST"],
    deduct_when=_failed,
    exempt_when=_known_browser,
)
def login() -> ResponseReturnValue:
    """Log in by username or e-mail."""
    next_url = request.values.get("next")
    if current_user.is_authenticated:
        return redirect(safe_next(next_url))
    form = LoginForm()
    status = 200
    if form.is_submitted():
        if form.validate():
            session = get_session()
            try:
                user = services.authenticate(
                    session,
                    form.login.data,
                    form.password.data,
                    current_app.config["TRIBUNE_PASSWORD_METHOD"],
                )
            except DomainError as exc:  # an SSO account: no password login
                form.form_errors.append(exc.message)
                return render_template("auth/login.html", form=form, next=next_url), exc.status_code
            if user is not None:
                forget_browser()  # a remember-me cookie from before (maybe another account's)
                if form.remember.data:
                    remember_browser(user)
                session.commit()
                login_user(user)
                return _remember_browser(redirect(safe_next(next_url)))
            # The same message whether the account exists or not: no user enumeration.
            form.form_errors.append("Gebruikersnaam of wachtwoord klopt niet.")
        else:
            status = 422
    else:
        form.next.data = next_url
    return render_template("auth/login.html", form=form, next=next_url), status


@bp.post("/uitloggen")
def logout() -> ResponseReturnValue:
    """Log out (POST with a CSRF token, so a link on another site cannot log you out).

    The session ends server-side: a copy of its cookie (or of the remember-me cookie) stops
    working. The cookie cannot tell this session from the user's others, so they end too.
    """
    session = get_session()
    if current_user.is_authenticated:
        services.end_sessions(session, current_user)
    forget_browser()
    session.commit()
    logout_user()
    flash("Je bent afgemeld, op al je toestellen.", "info")
    return redirect(url_for("pages.index"))


@bp.post("/profiel/overal-afmelden")
@login_required_any
def logout_everywhere() -> ResponseReturnValue:
    """End every session and remember-me cookie of this account, this one included."""
    session = get_session()
    services.end_sessions(session, current_user)
    forget_browser()
    session.commit()
    logout_user()
    flash("Je bent overal afgemeld.", "info")
    return redirect(url_for("auth.login")), 303


@bp.route("/registreren", methods=["GET", "POST"])
@limits_checked
@limiter.limit(lambda: current_app.config["TRIBUNE_REGISTER_LIMIT_IP"], methods=["POST"])
def register() -> ResponseReturnValue:
    """Create a fan account; the answer does not tell whether the address had one (the
    owner of a registered address gets a mail instead, accounts.care.register_account)."""
    if current_user.is_authenticated:
        return redirect(url_for("pages.index"))
    form = RegistrationForm()
    status = 200
    if form.is_submitted():
        status = 422
        valid = form.validate()
        session = get_session()
        registration = services.Registration(
            username=form.username.data or "",
            email=form.email.data or "",
            password=form.password.data or "",
        )
        username_check = current_app.extensions.get("tribune.username_check")
        # Every problem at once: the form's own checks and the service's (a name or address in
        # use, a name the screening refuses), so a fan does not fix one per try. A field the
        # form already flagged keeps the form's message for its rule; "in use" then goes above.
        # An address in use is no problem here: care.register_account answers as for a new
        # one and mails the address's owner (no enumeration of registered addresses).
        problems = services.registration_problems(
            session, registration, username_check, check_email_in_use=False
        )
        for problem in problems:
            place = (problem.details or {}).get("field")
            if place in form._fields and form[place].errors:
                if problem.status_code == 409 and problem.message not in form.form_errors:
                    form.form_errors.append(problem.message)
                continue
            form.refuse(problem)
            if valid:
                status = problems[0].status_code
        if valid and not problems:
            try:
                care.register_account(
                    session,
                    registration,
                    current_app.config["TRIBUNE_PASSWORD_METHOD"],
                    care.LinkLifetimes.from_config(current_app.config),
                    username_check=username_check,
                )
            except DomainError as exc:
                session.rollback()
                form.refuse(exc)
                status = exc.status_code
            else:
                session.commit()
                # The same answer for a new address and one that has an account: no session
                # (that would tell them apart), a page that says a mail is on its way.
                return redirect(
                    url_for("care.registered", next=request.args.get("next") or None), 303
                )
    return render_template("auth/register.html", form=form), status


def _render_profile(
    status: int = 200,
    password_form: PasswordChangeForm | None = None,
    token_form: TokenForm | None = None,
    new_token: str | None = None,
    new_token_name: str | None = None,
    email_form: EmailChangeForm | None = None,
) -> tuple[str, int]:
    tokens: list[ApiToken] = []
    if current_user.role in (Role.EDITOR, Role.ADMIN):
        tokens = list(
            get_session().scalars(
                select(ApiToken)
                .where(ApiToken.user_id == current_user.id)
                .order_by(ApiToken.created_at.desc())
            )
        )
    # Forms that were not the one submitted start empty (not filled from this request's data).
    return (
        render_template(
            "auth/profile.html",
            tokens=tokens,
            new_token=new_token,
            new_token_name=new_token_name,
            password_form=password_form or PasswordChangeForm(formdata=None),
            token_form=token_form or TokenForm(formdata=None),
            email_form=email_form or EmailChangeForm(formdata=None),
            token_scope_fields=[
                TokenForm.SCOPE_FIELDS[scope]
                for scope in services.token_scopes_for(current_user.role)
            ],
            button=ButtonForm(formdata=None),
            vote_badge_form=VoteBadgeForm(
                formdata=None, data={"show": current_user.show_vote_badge}
            ),
        ),
        status,
    )


@bp.get("/profiel")
@login_required_any
def profile() -> ResponseReturnValue:
    """The user's profile: password change and, for editors, API tokens."""
    # A token created just before (post-redirect-get) is shown on this view only.
    created = cookie_session.pop(NEW_TOKEN_KEY, None)
    if not isinstance(created, dict):
        return _render_profile()
    page, status = _render_profile(
        new_token=created.get("token"), new_token_name=created.get("name")
    )
    return page, status, {"Cache-Control": "private, no-store"}


@bp.post("/profiel/wachtwoord")
@login_required_any
def change_password() -> ResponseReturnValue:
    """Change the password; other sessions end, this one stays logged in."""
    form = PasswordChangeForm()
    if not form.validate():
        return _render_profile(422, password_form=form)
    session = get_session()
    try:
        services.change_password(
            session,
            current_user,
            form.current.data,
            form.new.data,
            current_app.config["TRIBUNE_PASSWORD_METHOD"],
        )
    except DomainError as exc:
        session.rollback()
        if (exc.details or {}).get("field") == "password":
            exc.details = {"field": "new"}  # the service's rule names the new password
        form.refuse(exc)
        return _render_profile(exc.status_code, password_form=form)
    if request.cookies.get(REMEMBER_COOKIE):
        remember_browser(current_user)  # the old token ended with the sessions; this browser stays
    session.commit()
    # Store the new session version in this session so it stays logged in.
    login_user(current_user._get_current_object(), remember=False)
    flash("Je wachtwoord is gewijzigd. Andere sessies zijn afgemeld.", "success")
    return redirect(url_for("auth.profile")), 303


@bp.post("/profiel/sleutels")
@role_required(Role.EDITOR, Role.ADMIN)
def create_token() -> ResponseReturnValue:
    """Create an editor API token and show it once."""
    form = TokenForm()
    if not form.validate():
        return _render_profile(422, token_form=form)
    session = get_session()
    try:
        token, plain = services.create_api_token(
            session, current_user, form.name.data, form.chosen_scopes()
        )
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return _render_profile(exc.status_code, token_form=form)
    session.commit()
    # Post-redirect-get, so a reload cannot make a second token: the plain token travels to the
    # next view of /profiel in the signed, HttpOnly session cookie (never in a URL), which shows
    # it once and drops it.
    cookie_session[NEW_TOKEN_KEY] = {"name": token.name, "token": plain}
    return redirect(url_for("auth.profile")), 303


@bp.post("/profiel/sleutels/<int:token_id>/intrekken")
@role_required(Role.EDITOR, Role.ADMIN)
def revoke_token(token_id: int) -> ResponseReturnValue:
    """Revoke one of your API tokens."""
    session = get_session()
    services.revoke_api_token(session, current_user, token_id)
    session.commit()
    flash("De sleutel is ingetrokken.", "success")
    return redirect(url_for("auth.profile")), 303


@bp.get("/profiel/gemeld")
@login_required_any
def my_reports() -> ResponseReturnValue:
    """What happened to the comments this reader reported (/profiel/meldingen is where the
    reader chooses which notifications to get by mail)."""
    session = get_session()
    filed = notices_by(session, current_user)
    now = utcnow()
    return render_template(
        "auth/reports.html",
        reports=report_outcomes(session, current_user),
        notices=filed,
        # "No action" can be complained about (art. 20) through the notice's signed link.
        complaint_paths={
            notice.id: complaint_path(session, notice)
            for notice in filed
            if notice.complaint_key and complaint_refusal(notice, now) is None
        },
    )


@bp.get("/profiel/gegevens.json")
@login_required_any
def export_data() -> ResponseReturnValue:
    """ "Mijn gegevens downloaden": everything Tribune holds about the account, as a JSON file."""
    now = utcnow()
    document = export_user_data(get_session(), current_user, now)
    filename = f"tribune-gegevens-{current_user.id}-{now:%Y%m%d}.json"
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "private, no-store",
        },
    )


def _delete_form() -> DeleteAccountForm:
    # An account of a news site's single sign-on has no password: its username confirms.
    return DeleteAccountForm() if current_user.password_login else DeleteSsoAccountForm()


@bp.route("/profiel/verwijderen", methods=["GET", "POST"])
@login_required_any
def delete_account() -> ResponseReturnValue:
    """Delete one's own account: the password again (SSO: the username) and what becomes of
    the comments; then every session ends."""
    form = _delete_form()
    if request.method == "GET":
        return render_template("auth/delete_account.html", form=form)
    if not form.validate():
        return render_template("auth/delete_account.html", form=form), 422
    session = get_session()
    try:
        deletion.delete_account(
            session,
            current_user,
            form.confirmation.data or "",
            deletion.CommentChoice(form.comments.data),
        )
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return render_template("auth/delete_account.html", form=form), exc.status_code
    forget_browser()
    session.commit()
    logout_user()
    flash("Je account is verwijderd. Bedankt om mee te praten op Tribune.", "info")
    return redirect(url_for("pages.index")), 303
