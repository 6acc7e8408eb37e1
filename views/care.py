"""Account care pages: forgotten password, reset link, e-mail verification, change of address
(accounts.care). The link pages take the token from the path: their answers are not cached
and send no Referer, so the token does not leave the page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, logout_user
from werkzeug.wrappers import Response as BaseResponse

from accounts import care
from db import get_session
from errors import DomainError
from extensions import limiter, limits_checked
from forms.accounts import EmailChangeForm, ForgotPasswordForm, ResetPasswordForm
from forms.base import ButtonForm
from security import login_required_any
from views.auth import REMEMBER_COOKIE, safe_next
from views.auth import _render_profile as render_profile

bp = Blueprint("care", __name__)


def lifetimes() -> care.LinkLifetimes:
    return care.LinkLifetimes.from_config(current_app.config)


def _private(response: BaseResponse) -> BaseResponse:
    """A page reached through a secret link: never cached, and no Referer carries the link."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(template: str, status: int = 200, **context: object) -> BaseResponse:
    response = current_app.make_response((render_template(template, **context), status))
    return _private(response)


def _link_dead() -> BaseResponse:
    """The one page of a link that does not work (unknown, expired, used or replaced)."""
    return _page("auth/link_dead.html", 404)


# ---------------------------------------------------------------- forgotten password


def _reset_address_key() -> str:
    return "reset-address:" + care.normalise_email(request.form.get("email", ""))[:254]


@bp.route("/wachtwoord-vergeten", methods=["GET", "POST"])
@limits_checked
@limiter.limit(lambda: current_app.config["TRIBUNE_RESET_LIMIT_IP"], methods=["POST"])
@limiter.limit(
    lambda: current_app.config["TRIBUNE_RESET_LIMIT_ADDRESS"],
    key_func=_reset_address_key,
    methods=["POST"],
)
def forgot_password() -> ResponseReturnValue:
    """Ask for a reset link. The answer is the same whether the address has an account."""
    form = ForgotPasswordForm()
    if not form.is_submitted():
        return render_template("auth/forgot_password.html", form=form)
    if not form.validate():
        return render_template("auth/forgot_password.html", form=form), 422
    session = get_session()
    care.request_password_reset(session, form.email.data or "", lifetimes())
    session.commit()
    return redirect(url_for("care.forgot_password_sent"), 303)


@bp.get("/wachtwoord-vergeten/verstuurd")
def forgot_password_sent() -> ResponseReturnValue:
    """What every reset request is answered with."""
    return render_template("auth/forgot_password_sent.html")


@bp.route("/wachtwoord-herstellen/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> ResponseReturnValue:
    """Set a new password through a mailed link; every session of the account ends."""
    session = get_session()
    user = care.reset_link_user(session, token)
    if user is None:
        return _link_dead()
    form = ResetPasswordForm()
    if not form.is_submitted():
        return _page("auth/reset_password.html", form=form, user=user)
    if not form.validate():
        return _page("auth/reset_password.html", 422, form=form, user=user)
    try:
        care.reset_password(
            session, token, form.password.data, current_app.config["TRIBUNE_PASSWORD_METHOD"]
        )
    except DomainError as exc:
        session.rollback()
        if exc.code == "link_invalid":
            return _link_dead()
        form.refuse(exc)
        return _page("auth/reset_password.html", exc.status_code, form=form, user=user)
    session.commit()
    # The account's sessions ended with the version bump; this browser forgets its own too.
    if request.cookies.get(REMEMBER_COOKIE):
        g.remember_cookie = ""
    logout_user()
    flash(
        "Je nieuwe wachtwoord is ingesteld en je bent overal afgemeld. Meld je nu aan.", "success"
    )
    return _private(redirect(url_for("auth.login"), 303))


# ---------------------------------------------------------------- registration


@bp.get("/registreren/verstuurd")
def registered() -> ResponseReturnValue:
    """What every accepted registration is answered with, whether the address was new (an
    account and a verification mail) or already had an account (a mail to its owner)."""
    return render_template("auth/registered.html", next=safe_next(request.args.get("next")))


# ---------------------------------------------------------------- verification


@bp.route("/e-mail-bevestigen/<token>", methods=["GET", "POST"])
def verify_email(token: str) -> ResponseReturnValue:
    """A verification link: the page asks for one click (a mail scanner that opens links
    confirms nothing), the click confirms the address."""
    session = get_session()
    if not care.verify_link_live(session, token):
        return _link_dead()
    form = ButtonForm()
    if not form.is_submitted():
        return _page("auth/verify_email.html", form=form)
    if not form.validate():
        return _page("auth/verify_email.html", 422, form=form)
    try:
        care.verify_email(session, token)
    except DomainError:
        session.rollback()
        return _link_dead()
    session.commit()
    return _page("auth/verify_email.html", form=form, done=True)


def _account_mail_key() -> str:
    return f"account-mail:{current_user.id}" if current_user.is_authenticated else "account-mail"


@bp.post("/profiel/e-mail/opnieuw")
@login_required_any
@limits_checked
@limiter.limit(
    lambda: current_app.config["TRIBUNE_ACCOUNT_MAIL_LIMIT"],
    key_func=_account_mail_key,
    methods=["POST"],
)
def resend_verification() -> ResponseReturnValue:
    """Mail the verification link again (the older link stops working)."""
    form = ButtonForm()
    if not form.validate():
        return render_profile(422)
    session = get_session()
    if care.send_verification(session, current_user, lifetimes()):
        session.commit()
        flash(f"We stuurden een nieuwe bevestigingslink naar {current_user.email}.", "success")
    else:
        flash("Je e-mailadres hoeft niet (meer) bevestigd te worden.", "info")
    return redirect(safe_next(request.args.get("next") or url_for("auth.profile")), 303)


# ---------------------------------------------------------------- change of address


@bp.post("/profiel/e-mail")
@login_required_any
@limits_checked
@limiter.limit(
    lambda: current_app.config["TRIBUNE_ACCOUNT_MAIL_LIMIT"],
    key_func=_account_mail_key,
    methods=["POST"],
)
def change_email() -> ResponseReturnValue:
    """Start a change of address: a link to the new address, a notice to the current one."""
    form = EmailChangeForm()
    if not form.validate():
        return render_profile(422, email_form=form)
    session = get_session()
    try:
        care.start_email_change(
            session, current_user, form.password.data, form.new_email.data, lifetimes()
        )
    except DomainError as exc:
        session.rollback()
        form.refuse(exc)
        return render_profile(exc.status_code, email_form=form)
    session.commit()
    flash(
        f"We stuurden een link naar {care.normalise_email(form.new_email.data)}. Je adres "
        "verandert pas als je die link volgt.",
        "success",
    )
    return redirect(url_for("auth.profile"), 303)


@bp.route("/e-mail-wijzigen/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str) -> ResponseReturnValue:
    """The link mailed to a new address: one click moves the account there."""
    session = get_session()
    address = care.change_link_address(session, token)
    if address is None:
        return _link_dead()
    form = ButtonForm()
    if not form.is_submitted():
        return _page("auth/confirm_email_change.html", form=form, address=address)
    if not form.validate():
        return _page("auth/confirm_email_change.html", 422, form=form, address=address)
    try:
        care.confirm_email_change(session, token)
    except DomainError as exc:
        session.rollback()
        if exc.code == "link_invalid":
            return _link_dead()
        return _page(
            "auth/confirm_email_change.html",
            exc.status_code,
            form=form,
            address=address,
            refusal=exc.message,
        )
    session.commit()
    return _page("auth/confirm_email_change.html", form=form, address=address, done=True)
