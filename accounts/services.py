"""Account rules. Services take a Session, may flush, never commit."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from werkzeug.security import check_password_hash, generate_password_hash

from accounts import remember
from accounts.passwords import PASSWORD_MAX as PASSWORD_MAX  # re-exported for the forms
from accounts.passwords import PASSWORD_MIN as PASSWORD_MIN
from accounts.passwords import password_problems, validate_password
from errors import Conflict, DomainError, Invalid
from lookups import get_or_404
from models import (
    AccountToken,
    ApiToken,
    Role,
    TokenPurpose,
    TokenRevocation,
    TokenScope,
    User,
    utcnow,
)
from moderation.audit import record_action
from parsing import is_id_text, is_int_text
from writes.driver import hot_rows

USERNAME_MIN, USERNAME_MAX = 3, 32
USERNAME_RE = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9_.-]{{{USERNAME_MIN - 1},{USERNAME_MAX - 1}}}$")
EMAIL_MAX = 254
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
TOKEN_NAME_MAX = 80
TOKEN_PREFIX = "trb_"
TOKEN_USE_RESOLUTION = timedelta(minutes=5)  # how exactly a token's "last used" is kept


def username_key(username: str) -> str:
    """The case-folded form that makes usernames unique."""
    return username.strip().casefold()


def hash_password(password: str, method: str) -> str:
    """Hash with the configured algorithm (scrypt in production)."""
    return generate_password_hash(password, method=method)


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_hex(8), method=method)


@dataclass(frozen=True)
class Registration:
    username: str
    email: str
    password: str


def registration_problems(
    session: Session,
    registration: Registration,
    username_check: object = None,
    check_email_in_use: bool = True,
) -> list[DomainError]:
    """Every rule the registration breaks, in field order (name, e-mail, password, in use),
    so a form can show them all at once instead of one per try.

    A name in use is always a problem (names are public). An address in use is one only
    with `check_email_in_use` (the CLI, an administrator): the public page leaves it to
    accounts.care.register_account, which answers as for a fresh address."""
    username = registration.username.strip()
    email = registration.email.strip().lower()
    problems: list[DomainError] = []
    if not USERNAME_RE.match(username):
        problems.append(
            Invalid(
                "invalid_username",
                f"Een gebruikersnaam heeft {USERNAME_MIN} tot {USERNAME_MAX} tekens: "
                "letters, cijfers, punt, streep of _.",
                details={"field": "username"},
            )
        )
    elif callable(username_check):
        try:
            username_check(username)
        except DomainError as exc:
            problems.append(exc)
    if not EMAIL_RE.match(email) or len(email) > EMAIL_MAX:
        problems.append(
            Invalid("invalid_email", "Dat e-mailadres is ongeldig.", details={"field": "email"})
        )
    problems.extend(password_problems(registration.password, username, email))
    name_taken = session.scalar(select(User.id).where(User.username_key == username_key(username)))
    if name_taken is not None:
        problems.append(
            Conflict(
                "username_taken",
                "Die gebruikersnaam is al in gebruik.",
                details={"field": "username"},
            )
        )
    if check_email_in_use and session.scalar(select(User.id).where(User.email == email)):
        problems.append(
            Conflict("email_taken", "Dat e-mailadres is al in gebruik.", details={"field": "email"})
        )
    return problems


def register_user(
    session: Session,
    registration: Registration,
    password_method: str,
    role: Role = Role.FAN,
    username_check: object = None,
    email_in_use_checked: bool = True,
    verified: bool = False,
) -> User:
    """Create an account after checking the name, e-mail and password (the first broken rule
    is raised; registration_problems lists them all). `verified`: the address counts as
    confirmed (an account an administrator made: the CLI, the demo seed)."""
    problems = registration_problems(
        session, registration, username_check, check_email_in_use=email_in_use_checked
    )
    if problems:
        raise problems[0]
    username = registration.username.strip()
    user = User(
        username=username,
        username_key=username_key(username),
        email=registration.email.strip().lower(),
        password_hash=hash_password(registration.password, password_method),
        role=role,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, login: str, password: str, password_method: str) -> User | None:
    """The active user with this name or e-mail and password, else None (same cost either way).

    An account made by a site's single sign-on has no password: 403 password_login_disabled."""
    login = login.strip()
    user = session.scalar(
        select(User).where(
            or_(User.username_key == username_key(login), User.email == login.lower())
        )
    )
    if user is None:
        check_password_hash(_dummy_hash(password_method), password)
        return None
    if not user.password_login:
        check_password_hash(_dummy_hash(password_method), password)  # the same cost
        raise DomainError(
            "password_login_disabled",
            "Dit account meldt zich aan via de website van je krant of club, niet met een "
            "wachtwoord op Tribune. Reageer daar, onder het artikel.",
            403,
        )
    if not check_password_hash(user.password_hash, password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    return user


def change_password(
    session: Session, user: User, current: str, new: str, password_method: str
) -> None:
    """Replace the password and end the user's other sessions."""
    if not check_password_hash(user.password_hash, current):
        raise Invalid(
            "wrong_password", "Je huidige wachtwoord klopt niet.", details={"field": "current"}
        )
    validate_password(new, user.username, user.email)
    user.password_hash = hash_password(new, password_method)
    end_sessions(session, user)
    _forget_reset_links(session, user)


def _forget_reset_links(session: Session, user: User) -> None:
    """A new password ends the reset links still unused (mailed for the old one)."""
    session.execute(
        delete(AccountToken).where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == TokenPurpose.RESET,
            AccountToken.used_at.is_(None),
        )
    )


def set_password(session: Session, user: User, new: str, password_method: str) -> None:
    """An administrator's reset (the CLI) or a reset link's (accounts.care): the
    registration's password rules, and every session of the account ends."""
    validate_password(new, user.username, user.email)
    user.password_hash = hash_password(new, password_method)
    end_sessions(session, user)
    _forget_reset_links(session, user)


def end_sessions(session: Session, user: User) -> None:
    """End every session and remember-me cookie of the user, on every device.

    Both carry the session version (User.get_id); the loader refuses a stale one. Logout uses
    this too: a copied cookie of the session just closed must stop working, and the cookie
    holds nothing that tells one of the user's sessions from another.
    """
    user.session_version += 1
    remember.forget_all(session, user)  # ended by the version too; this keeps the table small
    session.flush()


# Built once: every signed-in request runs one of them (Session.get builds its SELECT on each
# call).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))
_USER_ROW = select(User.__table__).where(User.__table__.c.id == bindparam("user_id"))
_USER_COLUMNS = tuple(column.key for column in User.__table__.columns)


def load_user(session: Session, user_key: str) -> User | None:
    """Flask-Login's loader: "<id>:<session version>" → the active user, or None."""
    user_id, _, version = user_key.partition(":")
    if not is_id_text(user_id) or not is_int_text(version):
        return None
    user = signed_in_user(session, int(user_id))
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def signed_in_user(session: Session, user_id: int) -> User | None:
    """The user by id, persistent in the session as if the ORM had loaded it.

    On SQLite the row is read on the driver connection and attached through the ORM's public
    means (committed values, detached identity, add): on a post the ORM's own select cost
    about as much as all the post's other reads together. Elsewhere the ORM loads it.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return session.execute(_USER_BY_ID, {"user_id": user_id}).scalar_one_or_none()
    if session.identity_map:  # a request's session is usually empty here
        known = session.identity_map.get(session.identity_key(User, user_id))
        if isinstance(known, User):
            return known
    rows = hot_rows(connection, _USER_ROW, {"user_id": user_id})
    if not rows:
        return None
    user = User()
    # A new instance has no attribute history, so its loaded values go straight into its
    # __dict__ (what set_committed_value does per attribute, without the per-call lookups).
    user.__dict__.update(zip(_USER_COLUMNS, rows[0], strict=True))
    make_transient_to_detached(user)  # no pending changes: it reads as loaded
    session.add(user)
    return user


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Who may hold a token, and which write scopes each role may give one.
TOKEN_ROLES = (Role.EDITOR, Role.ADMIN)
TOKEN_SCOPES_BY_ROLE: dict[Role, frozenset[TokenScope]] = {
    Role.EDITOR: frozenset(
        {TokenScope.ARTICLES_WRITE, TokenScope.POLLS_WRITE, TokenScope.COMMENTS_WRITE}
    ),
    Role.ADMIN: frozenset(TokenScope),
}


def token_scopes_for(role: Role) -> list[TokenScope]:
    """The scopes a token of this role may carry, in their documented order."""
    allowed = TOKEN_SCOPES_BY_ROLE.get(role, frozenset())
    return [scope for scope in TokenScope if scope in allowed]


def _parse_scopes(user: User, scopes: Iterable[TokenScope | str]) -> list[TokenScope]:
    chosen: list[TokenScope] = []
    for scope in scopes:
        try:
            parsed = TokenScope(scope)
        except ValueError:
            raise Invalid(
                "invalid_scope",
                f"Onbekend recht: {str(scope)[:40]}.",
                details={"field": "scopes", "allowed": [s.value for s in TokenScope]},
            ) from None
        if parsed not in TOKEN_SCOPES_BY_ROLE.get(user.role, frozenset()):
            raise Invalid(
                "scope_not_allowed",
                f"Met jouw rol kan een sleutel het recht {parsed.value} niet krijgen.",
                details={"field": "scopes", "scope": parsed.value},
            )
        if parsed not in chosen:
            chosen.append(parsed)
    return [scope for scope in TokenScope if scope in chosen]


def create_api_token(
    session: Session, user: User, name: str, scopes: Iterable[TokenScope | str] = ()
) -> tuple[ApiToken, str]:
    """A new editor API token with the write scopes chosen now (none: it only reads); the
    plain token is returned once and never stored."""
    name = name.strip()
    if not 1 <= len(name) <= TOKEN_NAME_MAX:
        raise Invalid(
            "invalid_name",
            f"Geef de sleutel een naam (1 tot {TOKEN_NAME_MAX} tekens).",
            details={"field": "name"},
        )
    if user.role not in TOKEN_ROLES:
        raise DomainError("forbidden", "Alleen redacteurs maken API-sleutels aan.", 403)
    chosen = _parse_scopes(user, scopes)
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        token_hash=_token_digest(plain),
        prefix=plain[:10],
        scopes=" ".join(scope.value for scope in chosen),
    )
    session.add(token)
    session.flush()
    record_action(
        session, user, "api_token", token.id, "create_token", note=f"{name} ({token.scopes})"
    )
    return token, plain


def revoke_api_token(session: Session, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (admins may revoke any)."""
    token = get_or_404(
        session,
        ApiToken,
        token_id,
        "token_not_found",
        "Die sleutel bestaat niet.",
        visible=lambda token: token.user_id == user.id or user.role is Role.ADMIN,
    )
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        token.revoked_reason = (
            TokenRevocation.OWNER if token.user_id == user.id else TokenRevocation.ADMIN
        )
        record_action(session, user, "api_token", token.id, "revoke_token", note=token.name)
    return token


def revoke_tokens_of(
    session: Session, actor: User, user: User, reason: TokenRevocation
) -> list[ApiToken]:
    """Revoke every live token of `user` for good (a demotion, a deactivation): a later
    promotion or reactivation does not bring them back."""
    tokens = list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        )
    )
    now = utcnow()
    for token in tokens:
        token.revoked_at = now
        token.revoked_reason = reason
        record_action(
            session,
            actor,
            "api_token",
            token.id,
            "revoke_token",
            note=f"{token.name} ({reason.label_nl})",
        )
    return tokens


def check_token_scope(token: ApiToken, needed: TokenScope | None) -> None:
    """Refuse a write the token has no scope for (403 insufficient_scope, naming the scope);
    a write that names no scope takes no token at all."""
    if needed is None:
        raise DomainError(
            "insufficient_scope", "Deze bewerking kan niet met een API-sleutel.", 403, {}
        )
    if needed not in token.scope_set:
        raise DomainError(
            "insufficient_scope",
            f"Deze API-sleutel heeft het recht {needed.value} niet.",
            403,
            {"scope": needed.value},
        )


def valid_token(session: Session, plain: str) -> ApiToken | None:
    """A valid, unrevoked token of an active editor (its `user`); reading only."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(plain)))
    if token is None or token.revoked_at is not None:
        return None
    user = session.get(User, token.user_id)
    if user is None or not user.is_active or user.role not in TOKEN_ROLES:
        return None
    return token


def token_use_due(token: ApiToken, now: datetime) -> bool:
    """Whether this use should be recorded: "last used" is kept to TOKEN_USE_RESOLUTION, so a
    busy CMS does not make every one of its requests a write."""
    return token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_RESOLUTION


def mark_token_used(session: Session, token_id: int, now: datetime) -> None:
    """Record a use of the token (only when the stored one is older than the resolution)."""
    session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(
                ApiToken.last_used_at.is_(None),
                ApiToken.last_used_at <= now - TOKEN_USE_RESOLUTION,
            ),
        )
        .values(last_used_at=now)
    )


def refuse_deleted(user: User) -> None:
    """A deleted account (privacy.deletion) is never changed back: 409 account_deleted."""
    if user.deleted_at is not None:
        raise Conflict("account_deleted", "Dit account werd door de gebruiker verwijderd.")


def set_role(session: Session, admin: User, user_id: int, role: Role) -> User:
    """An admin changes someone's role (not their own: an admin cannot lock themselves out)."""
    user = get_or_404(session, User, user_id, "user_not_found", "Die gebruiker bestaat niet.")
    if user.id == admin.id:
        raise Conflict("own_account", "Je kan je eigen rol niet wijzigen.")
    refuse_deleted(user)
    if user.role is not role:
        record_action(session, admin, "user", user.id, "set_role", user.role.value, role.value)
        user.role = role
        end_sessions(session, user)  # pages open under the old role close with it
        if role not in TOKEN_ROLES:
            revoke_tokens_of(session, admin, user, TokenRevocation.ROLE_LOST)
    return user


def set_active(session: Session, admin: User, user_id: int, active: bool) -> User:
    """An admin deactivates or reactivates an account; a deactivated one cannot log in."""
    user = get_or_404(session, User, user_id, "user_not_found", "Die gebruiker bestaat niet.")
    if user.id == admin.id:
        raise Conflict("own_account", "Je kan je eigen account niet deactiveren.")
    refuse_deleted(user)
    if user.is_active != active:
        record_action(
            session,
            admin,
            "user",
            user.id,
            "activate" if active else "deactivate",
            "inactive" if active else "active",
            "active" if active else "inactive",
        )
        user.is_active = active
        end_sessions(session, user)
        if not active:
            revoke_tokens_of(session, admin, user, TokenRevocation.DEACTIVATED)
    return user


def search_users(
    session: Session, query: str = "", role: Role | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[User], int]:
    """Users matching a name/e-mail fragment and role, newest first, with the total."""
    stmt = select(User)
    if query.strip():
        needle = query.strip().casefold()
        stmt = stmt.where(
            or_(
                User.username_key.contains(needle, autoescape=True),
                User.email.contains(needle, autoescape=True),
            )
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(User.created_at.desc(), User.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total
