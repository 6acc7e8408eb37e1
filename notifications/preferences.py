"""Who may be notified of what, and how: the per-kind choices, their defaults, the address a
notification goes to, and the signed one-click unsubscribe links."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from errors import Invalid, NotFound
from models import (
    Delivery,
    NotificationKind,
    NotificationSettings,
    Role,
    SsoIdentity,
    User,
    utcnow,
)

# The defaults, chosen so that what concerns a fan's own account and comments arrives at once
# and what concerns others' comments waits for the daily digest; the queue alarm is opt-in.
DEFAULTS: dict[NotificationKind, Delivery] = {
    NotificationKind.REPLY: Delivery.IMMEDIATE,
    NotificationKind.DECISION: Delivery.IMMEDIATE,
    NotificationKind.REPORT: Delivery.DAILY,
    NotificationKind.APPEAL: Delivery.IMMEDIATE,
    NotificationKind.SUSPENSION: Delivery.IMMEDIATE,
    NotificationKind.QUEUE_ALERT: Delivery.NEVER,
}
FAN_KINDS = (
    NotificationKind.REPLY,
    NotificationKind.DECISION,
    NotificationKind.REPORT,
    NotificationKind.APPEAL,
    NotificationKind.SUSPENSION,
)
# Roles that triage the queue (editors do not) and may opt in to its alarm.
ALERT_ROLES = (Role.MODERATOR, Role.ADMIN)
# The unsubscribe link of a digest mail: it turns every kind that goes to the digest off.
DIGEST = "digest"
UNSUBSCRIBE_INVALID_NL = "Deze afmeldlink is ongeldig of verlopen."

def kinds_for(user: User) -> tuple[NotificationKind, ...]:
    """The kinds this account can choose: every fan kind, plus the queue alarm for staff."""
    if user.role in ALERT_ROLES:
        return (*FAN_KINDS, NotificationKind.QUEUE_ALERT)
    return FAN_KINDS


def choices_for(kind: NotificationKind) -> tuple[Delivery, ...]:
    """The choices of one kind (an alarm in a next-day digest would come too late)."""
    if kind is NotificationKind.QUEUE_ALERT:
        return (Delivery.IMMEDIATE, Delivery.NEVER)
    return (Delivery.IMMEDIATE, Delivery.DAILY, Delivery.NEVER)


def address_verified(user: User) -> bool:
    """Whether the account's own address is confirmed; SSO accounts are exempt (the news
    site vouches for the address it sends)."""
    if not user.password_login:
        return True
    return user.email_verified_at is not None


def notification_address(session: Session, user: User) -> str | None:
    """Where this account's notifications go: its confirmed address, or for an SSO account the
    address its news site sent; None when there is none (nothing is sent then)."""
    if not user.password_login:
        email: str | None = session.scalar(
            select(SsoIdentity.email).where(SsoIdentity.user_id == user.id)
        )
        return email or None
    return user.email if address_verified(user) else None


def reachable(user: User, kind: NotificationKind, now: datetime) -> bool:
    """Whether notifying this account of `kind` makes sense: never a deactivated account; a
    permanently banned one only hears about its ban; the queue alarm only reaches staff who
    may moderate now."""
    if not user.is_active:
        return False
    if kind is NotificationKind.SUSPENSION:
        return True
    if user.is_banned_for_good(now):
        return False
    if kind is NotificationKind.QUEUE_ALERT:
        return user.role in ALERT_ROLES and not user.is_banned(now)
    return True


def settings_of(session: Session, user_id: int) -> NotificationSettings | None:
    """The account's settings row, or None while it chose nothing and was never mailed."""
    return session.get(NotificationSettings, user_id)


def ensure_settings(session: Session, user_id: int) -> NotificationSettings:
    """The account's settings row, created with a fresh unsubscribe key when missing (two
    transactions creating it at once: the database keeps one)."""
    found = settings_of(session, user_id)
    if found is not None:
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    table = NotificationSettings.__table__
    session.execute(
        dialect.insert(table)
        .values(user_id=user_id, unsubscribe_key=secrets.token_hex(32), updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id"])
    )
    return session.get_one(NotificationSettings, user_id)


def current_choices(session: Session, user: User) -> dict[NotificationKind, Delivery]:
    """What the account receives of each kind it can choose (its choice, else the default)."""
    row = settings_of(session, user.id)
    return {
        kind: (getattr(row, kind.value) if row is not None else None) or DEFAULTS[kind]
        for kind in kinds_for(user)
    }


def delivery_for(session: Session, user: User, kind: NotificationKind) -> Delivery:
    """How this account wants `kind` (a kind it cannot choose: never)."""
    if kind not in kinds_for(user):
        return Delivery.NEVER
    return current_choices(session, user)[kind]


def save_choices(
    session: Session, user: User, choices: Mapping[NotificationKind, Delivery]
) -> NotificationSettings:
    """Store the account's choices; a kind it cannot choose or a choice that kind does not
    offer is refused (422 invalid_notification_choice)."""
    allowed = kinds_for(user)
    for kind, delivery in choices.items():
        if kind not in allowed or delivery not in choices_for(kind):
            raise Invalid(
                "invalid_notification_choice",
                "Kies meteen, dagelijks overzicht of nooit.",
                details={"field": kind.value},
            )
    row = ensure_settings(session, user.id)
    for kind, delivery in choices.items():
        setattr(row, kind.value, delivery)
    session.flush()
    return row


# ---------------------------------------------------------------- unsubscribe links


def _signature(key: str, user_id: int, kind: str) -> str:
    mac = hmac.new(key.encode(), f"{user_id}.{kind}".encode(), hashlib.sha256)
    return mac.hexdigest()[:32]


def unsubscribe_token(session: Session, user_id: int, kind: NotificationKind | str) -> str:
    """A token naming the account and the kind (or "digest"), signed with the account's key."""
    name = kind.value if isinstance(kind, NotificationKind) else kind
    key = ensure_settings(session, user_id).unsubscribe_key
    return f"{user_id}.{name}.{_signature(key, user_id, name)}"


def unsubscribe_path(session: Session, user_id: int, kind: NotificationKind | str) -> str:
    """The page a mail's one-click unsubscribe link opens (GET confirms, POST acts)."""
    return f"/meldingen/afmelden/{unsubscribe_token(session, user_id, kind)}"


def unsubscribe_target(session: Session, token: str) -> tuple[User, str]:
    """The account and kind a token names, or 404 unsubscribe_link_invalid."""
    user_text, _, rest = token.partition(".")
    name, _, signature = rest.partition(".")
    kinds = {kind.value for kind in NotificationKind} | {DIGEST}
    if not user_text.isdigit() or len(user_text) > 12 or name not in kinds:
        raise NotFound("unsubscribe_link_invalid", UNSUBSCRIBE_INVALID_NL)
    user_id = int(user_text)
    row = settings_of(session, user_id)
    user = session.get(User, user_id)
    if (
        row is None
        or user is None
        or not hmac.compare_digest(_signature(row.unsubscribe_key, user_id, name), signature)
    ):
        raise NotFound("unsubscribe_link_invalid", UNSUBSCRIBE_INVALID_NL)
    return user, name


def kinds_named(session: Session, user: User, name: str) -> list[NotificationKind]:
    """The kinds an unsubscribe token turns off: its kind, or for "digest" every kind the
    account now receives in the digest."""
    if name != DIGEST:
        return [NotificationKind(name)]
    return [
        kind
        for kind, delivery in current_choices(session, user).items()
        if delivery is Delivery.DAILY
    ]


def unsubscribe(session: Session, token: str) -> tuple[User, list[NotificationKind]]:
    """One click: the kinds the token names are set to "nooit"."""
    user, name = unsubscribe_target(session, token)
    kinds = kinds_named(session, user, name)
    save_choices(session, user, {kind: Delivery.NEVER for kind in kinds if kind in kinds_for(user)})
    return user, kinds
