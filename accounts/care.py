"""Account care: password reset, e-mail verification, change of address, and registration
without telling anyone whether an address has an account (issue 17, point 3).

Every flow mails a single-use link (models.AccountToken): only a SHA-256 of its token is
stored, it works once and until its expiry, and a newer link of the same purpose for the same
account deletes the older ones. Mail goes through the outbox (written in the caller's
transaction, delivered by the worker). Accounts made by a news site's single sign-on
(password_login false) are left out of all of it: no reset, no verification, no change of
address. Services take a Session, may flush, never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from accounts import services
from errors import DomainError, Invalid
from models import AccountToken, TokenPurpose, User, utcnow
from outbox import enqueue_mail
from privacy.deletion import FormerAccount, register_eraser
from privacy.export import register_section

TOKEN_BYTES = 32
TOKEN_TEXT_MAX = 100  # longer path segments are not ours (token_urlsafe(32) is 43 characters)

RESET_PATH = "/wachtwoord-herstellen/"
VERIFY_PATH = "/e-mail-bevestigen/"
CHANGE_PATH = "/e-mail-wijzigen/"


@dataclass(frozen=True)
class LinkLifetimes:
    """How long each kind of mailed link works (TRIBUNE_*_TOKEN_* settings)."""

    reset: timedelta = timedelta(hours=1)
    verify: timedelta = timedelta(hours=72)
    change_email: timedelta = timedelta(hours=24)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> LinkLifetimes:
        return cls(
            reset=timedelta(minutes=config["TRIBUNE_RESET_TOKEN_MINUTES"]),
            verify=timedelta(hours=config["TRIBUNE_VERIFY_TOKEN_HOURS"]),
            change_email=timedelta(hours=config["TRIBUNE_EMAIL_CHANGE_TOKEN_HOURS"]),
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _hours(lifetime: timedelta) -> int:
    return max(1, round(lifetime.total_seconds() / 3600))


def _minutes(lifetime: timedelta) -> int:
    return max(1, round(lifetime.total_seconds() / 60))


def normalise_email(email: str) -> str:
    return email.strip().lower()


def user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


# ---------------------------------------------------------------- tokens


def issue_link(
    session: Session,
    user: User,
    purpose: TokenPurpose,
    lifetime: timedelta,
    now: datetime,
    email: str | None = None,
) -> str:
    """A new single-use token for the user (the plain token, to put in a link; never stored).

    Older unused links of the same purpose for the same account stop working: only the
    newest mail's link counts, so a mailbox with several reset mails has one that works."""
    forget_links(session, user, purpose)
    plain = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        AccountToken(
            purpose=purpose,
            user_id=user.id,
            token_hash=_digest(plain),
            new_email=email,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return plain


def forget_links(session: Session, user: User, *purposes: TokenPurpose) -> None:
    """Delete the account's unused links of these purposes."""
    session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose.in_(purposes),
            AccountToken.used_at.is_(None),
        )
    )


def live_link(
    session: Session, plain: str, purpose: TokenPurpose, now: datetime
) -> AccountToken | None:
    """The unused, unexpired link of this purpose behind a token, else None."""
    if not plain or len(plain) > TOKEN_TEXT_MAX:
        return None
    token = session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == _digest(plain), AccountToken.purpose == purpose
        )
    )
    if token is None or token.used_at is not None or token.expires_at <= now:
        return None
    return token


def _link_dead() -> DomainError:
    return DomainError(
        "link_invalid",
        "Deze link werkt niet (meer): hij is verlopen, al gebruikt, of vervangen door een "
        "nieuwere link.",
        404,
    )


def _use_link(
    session: Session, plain: str, purpose: TokenPurpose, now: datetime
) -> tuple[AccountToken, User]:
    """Mark a live link used (once: of two requests with the same link, one gets it) and
    return it with its account; 404 link_invalid otherwise."""
    token = live_link(session, plain, purpose, now)
    if token is None:
        raise _link_dead()
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(AccountToken)
            .where(AccountToken.id == token.id, AccountToken.used_at.is_(None))
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        raise _link_dead()
    session.refresh(token)
    user = session.get(User, token.user_id)
    if user is None or not user.is_active or not user.password_login:
        raise _link_dead()
    return token, user


# ---------------------------------------------------------------- password reset


def request_password_reset(
    session: Session, email: str, lifetimes: LinkLifetimes, now: datetime | None = None
) -> None:
    """Mail a reset link to the account with this address, if there is one that logs in with
    a password. The caller answers the same whatever happened here."""
    now = now or utcnow()
    user = user_by_email(session, email)
    if user is None or not user.is_active or not user.password_login:
        return
    plain = issue_link(session, user, TokenPurpose.RESET, lifetimes.reset, now)
    enqueue_mail(
        session,
        to=user.email,
        template="password_reset",
        context={
            "username": user.username,
            "path": RESET_PATH + plain,
            "minutes": _minutes(lifetimes.reset),
        },
        kind="password_reset",
        user_id=user.id,
    )


def reset_link_user(session: Session, plain: str, now: datetime | None = None) -> User | None:
    """The account a live reset link belongs to (the page shows the form), else None."""
    token = live_link(session, plain, TokenPurpose.RESET, now or utcnow())
    if token is None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active or not user.password_login:
        return None
    return user


def reset_password(
    session: Session, plain: str, new: str, password_method: str, now: datetime | None = None
) -> User:
    """Set a new password through a reset link: the link is used up, the password rules
    apply (422 beside the field; the link then still works after the caller's rollback), and
    every session, remember-me cookie and embed session of the account ends."""
    now = now or utcnow()
    _token, user = _use_link(session, plain, TokenPurpose.RESET, now)
    services.set_password(session, user, new, password_method)  # ends every session
    # Following the mailed link proves the address too.
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user


# ---------------------------------------------------------------- verification


def send_verification(
    session: Session, user: User, lifetimes: LinkLifetimes, now: datetime | None = None
) -> bool:
    """Mail a verification link to the account's address; False when it needs none."""
    if not user.needs_verification:
        return False
    now = now or utcnow()
    plain = issue_link(session, user, TokenPurpose.VERIFY, lifetimes.verify, now, user.email)
    enqueue_mail(
        session,
        to=user.email,
        template="verify_email",
        context={
            "username": user.username,
            "path": VERIFY_PATH + plain,
            "hours": _hours(lifetimes.verify),
        },
        kind="verify_email",
        user_id=user.id,
    )
    return True


def verify_email(session: Session, plain: str, now: datetime | None = None) -> User:
    """Confirm the address a verification link was mailed to (still the account's)."""
    now = now or utcnow()
    token, user = _use_link(session, plain, TokenPurpose.VERIFY, now)
    if token.new_email != user.email:  # the account moved to another address since
        raise _link_dead()
    if user.email_verified_at is None:
        user.email_verified_at = now
    return user


def verify_link_live(session: Session, plain: str, now: datetime | None = None) -> bool:
    """Whether a verification link still works (its page shows the confirm button)."""
    return live_link(session, plain, TokenPurpose.VERIFY, now or utcnow()) is not None


# ---------------------------------------------------------------- registration


def register_account(
    session: Session,
    registration: services.Registration,
    password_method: str,
    lifetimes: LinkLifetimes,
    username_check: object = None,
    now: datetime | None = None,
) -> User | None:
    """A fan's registration from the public page: a new account and its verification mail,
    or, when the address already has an account, a mail to that address's owner instead and
    no account (None). The page answers the same either way, so it does not tell whether an
    address is registered; both ways hash the password (the same cost)."""
    now = now or utcnow()
    existing = user_by_email(session, registration.email)
    if existing is None:
        user = services.register_user(
            session,
            registration,
            password_method,
            username_check=username_check,
            email_in_use_checked=False,
        )
        send_verification(session, user, lifetimes, now)
        return user
    services.hash_password(registration.password, password_method)  # the same cost
    enqueue_mail(
        session,
        to=existing.email,
        template="address_in_use",
        context={
            "username": existing.username,
            "attempt": "registration",
            "sso": not existing.password_login,
        },
        kind="address_in_use",
        user_id=existing.id,
    )
    return None


# ---------------------------------------------------------------- change of address


def start_email_change(
    session: Session,
    user: User,
    password: str,
    new_email: str,
    lifetimes: LinkLifetimes,
    now: datetime | None = None,
) -> None:
    """Ask to move the account to another address, confirmed by the account's password.

    A link goes to the new address (the address changes only when it is followed) and a
    notice to the current one. When the new address already has an account, its owner gets a
    notice instead of a link and the answer is the same."""
    now = now or utcnow()
    if not user.password_login:
        raise DomainError(
            "password_login_disabled",
            "Dit account krijgt zijn e-mailadres van de website van je krant of club; wijzig "
            "het daar.",
            403,
        )
    if not check_password_hash(user.password_hash, password):
        raise Invalid("wrong_password", "Je wachtwoord klopt niet.", details={"field": "password"})
    address = normalise_email(new_email)
    if not services.EMAIL_RE.match(address) or len(address) > services.EMAIL_MAX:
        raise Invalid(
            "invalid_email", "Dat e-mailadres is ongeldig.", details={"field": "new_email"}
        )
    if address == user.email:
        raise Invalid(
            "same_email",
            "Dat is al het e-mailadres van je account.",
            details={"field": "new_email"},
        )
    owner = user_by_email(session, address)
    if owner is None:
        plain = issue_link(
            session, user, TokenPurpose.CHANGE_EMAIL, lifetimes.change_email, now, address
        )
        enqueue_mail(
            session,
            to=address,
            template="email_change_confirm",
            context={
                "username": user.username,
                "path": CHANGE_PATH + plain,
                "hours": _hours(lifetimes.change_email),
            },
            kind="email_change_confirm",
            user_id=user.id,
        )
    else:
        enqueue_mail(
            session,
            to=owner.email,
            template="address_in_use",
            context={
                "username": owner.username,
                "attempt": "change",
                "sso": not owner.password_login,
            },
            kind="address_in_use",
            user_id=owner.id,
        )
    enqueue_mail(
        session,
        to=user.email,
        template="email_change_notice",
        context={"username": user.username, "new_email": address},
        kind="email_change_notice",
        user_id=user.id,
    )


def change_link_address(session: Session, plain: str, now: datetime | None = None) -> str | None:
    """The address a live change-of-address link moves its account to, else None."""
    token = live_link(session, plain, TokenPurpose.CHANGE_EMAIL, now or utcnow())
    return token.new_email if token is not None else None


def confirm_email_change(session: Session, plain: str, now: datetime | None = None) -> User:
    """Follow a change-of-address link: the account takes the new address, confirmed by
    this very link; links mailed to the old address stop working."""
    now = now or utcnow()
    token, user = _use_link(session, plain, TokenPurpose.CHANGE_EMAIL, now)
    address = token.new_email
    if address is None:
        raise _link_dead()
    taken = session.scalar(select(User.id).where(User.email == address, User.id != user.id))
    if taken is not None:
        raise DomainError(
            "email_taken",
            "Dit e-mailadres hoort intussen bij een ander account; je adres is niet gewijzigd.",
            409,
        )
    user.email = address
    user.email_verified_at = now
    forget_links(session, user, TokenPurpose.RESET, TokenPurpose.VERIFY)
    session.flush()
    return user


# ---------------------------------------------------------------- GDPR: export and deletion


@register_section("account_links", covers={("account_tokens", "user_id"): ""})
def _export_links(session: Session, user: User) -> list[dict[str, Any]]:
    """The mailed links of the account (never the token or its hash)."""
    tokens = session.scalars(
        select(AccountToken).where(AccountToken.user_id == user.id).order_by(AccountToken.id)
    )
    return [
        {
            "id": token.id,
            "purpose": token.purpose.value,
            "new_email": token.new_email,
            "created_at": token.created_at.isoformat(),
            "expires_at": token.expires_at.isoformat(),
            "used_at": token.used_at.isoformat() if token.used_at else None,
        }
        for token in tokens
    ]


@register_eraser("account_links", covers=[("account_tokens", "user_id")])
def _erase_links(session: Session, former: FormerAccount) -> None:
    session.execute(delete(AccountToken).where(AccountToken.user_id == former.user_id))
