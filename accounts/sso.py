"""Single sign-on for the comments embed: a news site's backend signs a short-lived JWT for its
logged-in reader; Tribune verifies it (PyJWT) and maps (issuer, subject) to one fan account.

Rules (docs/embed.md): algorithms allowed only for the keys configured (HS256 with
TRIBUNE_SSO_SECRET; RS256 or EdDSA with TRIBUNE_SSO_PUBLIC_KEY; never `none`, no HS/RS
confusion); `sub`, `name` and `exp` required; `exp` at most one hour (+ leeway) ahead of now
and of `iat`; `iss` must equal TRIBUNE_SSO_ISSUER when that is set; a token issued before the
identity's last embed logout is a replay. Services take a Session, may flush, never commit.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from accounts.services import USERNAME_MAX, username_key
from errors import DomainError
from models import Role, SsoIdentity, User, utcnow

MAX_AHEAD = timedelta(hours=1)
SUBJECT_MAX = 200
ISSUER_MAX = 200
NAME_CLAIM_MAX = 200
EMAIL_MAX = 254
TOKEN_MAX = 8192
SECRET_MIN = 32
# What a collision adds to a display name: "Jan", then "Jan · 2", "Jan · 3" …
COLLISION_SEPARATOR = " · "
# The name an account gets when the site's `name` is refused by the username screening.
FALLBACK_NAME = "Lezer"
# Never a valid werkzeug hash: check_password_hash answers False for it whatever the password.
NO_PASSWORD = "!sso"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class SsoSettings:
    """The SSO settings, read once per app from its config."""

    secret: str | None
    public_key: str | None
    issuer: str | None
    leeway: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SsoSettings:
        return cls(
            secret=config.get("TRIBUNE_SSO_SECRET") or None,
            public_key=config.get("TRIBUNE_SSO_PUBLIC_KEY") or None,
            issuer=config.get("TRIBUNE_SSO_ISSUER") or None,
            leeway=int(config.get("TRIBUNE_SSO_LEEWAY_SECONDS", 60)),
        )

    @property
    def enabled(self) -> bool:
        return bool(self.secret or self.public_key)

    @cached_property
    def keys(self) -> dict[str, Any]:
        """Algorithm → verification key, only for the keys configured (the allow-list)."""
        return allowed_algorithms(self)

    def check(self) -> None:
        """Refuse unusable settings at startup (ValueError), not at a reader's first token."""
        if self.secret is not None and len(self.secret) < SECRET_MIN:
            raise ValueError(
                f"TRIBUNE_SSO_SECRET must be at least {SECRET_MIN} characters (HS256 needs a "
                "key as long as its hash: RFC 7518 3.2)"
            )
        self.keys  # noqa: B018 - loads the public key, raising on a bad one


@dataclass(frozen=True)
class SsoClaims:
    """What a verified SSO token says about the site's reader."""

    issuer: str  # the token's `iss`, "" when it has none
    subject: str
    name: str
    email: str | None
    issued_at: datetime | None
    expires_at: datetime


def public_key_algorithm(pem: str) -> tuple[str, Any]:
    """The one algorithm a configured public key verifies (RS256 for RSA, EdDSA for Ed25519)
    and the loaded key; ValueError for anything else."""
    try:
        key = load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        raise ValueError("TRIBUNE_SSO_PUBLIC_KEY is not a PEM public key") from None
    if isinstance(key, RSAPublicKey):
        return "RS256", key
    if isinstance(key, Ed25519PublicKey):
        return "EdDSA", key
    raise ValueError("TRIBUNE_SSO_PUBLIC_KEY must be an RSA or Ed25519 public key (PEM)")


def allowed_algorithms(settings: SsoSettings) -> dict[str, Any]:
    """Algorithm → verification key, only for the keys configured (the allow-list)."""
    keys: dict[str, Any] = {}
    if settings.secret:
        keys["HS256"] = settings.secret
    if settings.public_key:
        algorithm, key = public_key_algorithm(settings.public_key)
        keys[algorithm] = key
    return keys


def _refused(code: str, message: str) -> DomainError:
    return DomainError(code, message, 401)


def _claims_error(message: str) -> DomainError:
    return DomainError("sso_claims", message, 401)


def verify_sso_token(token: str, settings: SsoSettings, now: datetime | None = None) -> SsoClaims:
    """Verify a site's SSO token and return its claims; DomainError (401) with a sso_* code
    for every way it can be wrong, 403 sso_disabled when no key is configured."""
    now = now or utcnow()
    if not settings.enabled:
        raise DomainError(
            "sso_disabled", "Aanmelden via de website is op deze Tribune niet ingesteld.", 403
        )
    if not token or len(token) > TOKEN_MAX:
        raise DomainError("sso_invalid", "Dit aanmeldbewijs van de website is ongeldig.", 401)
    keys = settings.keys
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise DomainError(
            "sso_invalid", "Dit aanmeldbewijs van de website is ongeldig.", 401
        ) from None
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in keys:
        # `none`, or an algorithm whose key is not configured (HS/RS confusion).
        raise DomainError(
            "sso_algorithm",
            "Dit aanmeldbewijs is ondertekend met een methode die deze Tribune niet aanvaardt.",
            401,
        )
    try:
        payload = jwt.decode(
            token,
            keys[algorithm],
            algorithms=[algorithm],
            # The times are checked below against `now` (one clock for every rule, and
            # testable); the signature, the algorithm and the claims' presence here.
            options={
                "require": ["exp"],
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
            },
        )
    except jwt.MissingRequiredClaimError:
        raise _claims_error("De claim exp (tot wanneer het bewijs geldt) ontbreekt.") from None
    except jwt.InvalidAlgorithmError:
        raise DomainError(
            "sso_algorithm",
            "Dit aanmeldbewijs is ondertekend met een methode die deze Tribune niet aanvaardt.",
            401,
        ) from None
    except jwt.PyJWTError:
        # A bad signature, a tampered payload, a malformed token or claim.
        raise DomainError(
            "sso_invalid", "Dit aanmeldbewijs van de website is ongeldig.", 401
        ) from None
    return _checked_claims(payload, settings, now)


def _timestamp(payload: Mapping[str, Any], claim: str) -> datetime | None:
    value = payload.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _claims_error(f"De claim {claim} moet een tijdstip in seconden zijn.")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise _claims_error(f"De claim {claim} is geen geldig tijdstip.") from None


def _checked_claims(payload: Mapping[str, Any], settings: SsoSettings, now: datetime) -> SsoClaims:
    leeway = timedelta(seconds=settings.leeway)
    expires_at = _timestamp(payload, "exp")
    issued_at = _timestamp(payload, "iat")
    if expires_at is None:  # PyJWT requires it; kept for the type
        raise _claims_error("De claim exp (tot wanneer het bewijs geldt) ontbreekt.")
    if expires_at <= now - leeway:
        raise DomainError(
            "sso_expired",
            "Je aanmelding via de website is verlopen. Laad de pagina opnieuw.",
            401,
        )
    not_before = _timestamp(payload, "nbf")
    for moment in (issued_at, not_before):
        if moment is not None and moment > now + leeway:
            raise _claims_error("Dit aanmeldbewijs is nog niet geldig (iat of nbf ligt later).")
    if expires_at > now + MAX_AHEAD + leeway or (
        issued_at is not None and expires_at - issued_at > MAX_AHEAD + leeway
    ):
        raise _claims_error("Een aanmeldbewijs mag hoogstens één uur geldig zijn (exp).")
    subject = payload.get("sub")
    if not isinstance(subject, str | int) or isinstance(subject, bool) or not str(subject).strip():
        raise _claims_error("De claim sub (de gebruiker van de website) ontbreekt.")
    subject = str(subject).strip()
    if len(subject) > SUBJECT_MAX:
        raise _claims_error(f"De claim sub is langer dan {SUBJECT_MAX} tekens.")
    name = payload.get("name")
    if not isinstance(name, str) or not display_name(name):
        raise _claims_error("De claim name (de naam bij reacties) ontbreekt.")
    if len(name) > NAME_CLAIM_MAX:
        raise _claims_error(f"De claim name is langer dan {NAME_CLAIM_MAX} tekens.")
    email = payload.get("email")
    if email is not None and (
        not isinstance(email, str) or len(email) > EMAIL_MAX or "@" not in email
    ):
        raise _claims_error("De claim email is geen e-mailadres.")
    issuer = payload.get("iss")
    if issuer is not None and (not isinstance(issuer, str) or len(issuer) > ISSUER_MAX):
        raise DomainError(
            "sso_issuer", "Dit aanmeldbewijs komt niet van de verwachte website.", 401
        )
    if settings.issuer is not None and issuer != settings.issuer:
        raise DomainError(
            "sso_issuer", "Dit aanmeldbewijs komt niet van de verwachte website.", 401
        )
    return SsoClaims(
        issuer=issuer or "",
        subject=subject,
        name=name,
        email=email.strip().lower() if isinstance(email, str) else None,
        issued_at=issued_at,
        expires_at=expires_at,
    )


# ---------------------------------------------------------------- account mapping


def display_name(raw: str) -> str:
    """The site's `name` as a Tribune display name: NFC, no control or bidi characters, one
    space between words, at most USERNAME_MAX characters."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", raw))
    return " ".join(text.split())[:USERNAME_MAX].strip()


def _with_suffix(base: str, number: int) -> str:
    suffix = f"{COLLISION_SEPARATOR}{number}"
    return base[: USERNAME_MAX - len(suffix)].rstrip() + suffix


def free_display_name(session: Session, base: str, own_user_id: int | None = None) -> str:
    """`base`, or "base · 2", "base · 3" … : the first whose case-folded form no other account
    uses (the collision is resolved visibly, in the name everyone sees)."""
    first = 1
    while True:
        numbers = range(first, first + 50)
        candidates = [base if n == 1 else _with_suffix(base, n) for n in numbers]
        keys = [username_key(candidate) for candidate in candidates]
        rows = session.execute(
            select(User.username_key, User.id).where(User.username_key.in_(keys))
        ).tuples()
        taken: dict[str, int] = dict(rows.all())
        for candidate, key in zip(candidates, keys, strict=True):
            if key not in taken or taken[key] == own_user_id:
                return candidate
        first += 50


def _chosen_name(raw: str, username_check: Callable[[str], None] | None) -> str:
    name = display_name(raw)
    if username_check is not None:
        try:
            username_check(name)
        except DomainError:
            # A name the screening refuses (an insult …) is not shown: the reader posts as
            # "Lezer · n" until the site sends another name.
            return FALLBACK_NAME
    return name


def _placeholder_email(issuer: str, subject: str) -> str:
    # users.email is unique and required; an SSO account never logs in by e-mail, and the
    # site's address (kept on the identity) might belong to another Tribune account.
    digest = hashlib.sha256(f"{issuer}\x00{subject}".encode()).hexdigest()[:32]
    return f"sso-{digest}@sso.invalid"


def check_not_replayed(identity: SsoIdentity, claims: SsoClaims) -> None:
    """Refuse a token that may have been issued before the identity's last embed logout
    (sso_replayed). Without `iat`, the earliest it can have been issued is exp - 1 hour."""
    if identity.logged_out_at is None:
        return
    issued = claims.issued_at or (claims.expires_at - MAX_AHEAD)
    if issued < identity.logged_out_at:
        raise DomainError(
            "sso_replayed",
            "Dit aanmeldbewijs werd al gebruikt voor je afmelding. Laad de pagina opnieuw.",
            401,
        )


def sign_in_sso(
    session: Session,
    claims: SsoClaims,
    username_check: Callable[[str], None] | None = None,
    now: datetime | None = None,
) -> tuple[User, SsoIdentity]:
    """The account of this site reader: found by (issuer, subject), created on first use (a
    fan without password login), renamed when the site's name changed."""
    now = now or utcnow()
    identity = _identity(session, claims)
    if identity is None:
        return _create(session, claims, username_check, now)
    check_not_replayed(identity, claims)
    user = session.get(User, identity.user_id)
    if user is None:  # cascades make this unreachable; a clear error all the same
        raise DomainError("sso_invalid", "Dit aanmeldbewijs van de website is ongeldig.", 401)
    if not user.is_active:
        raise DomainError(
            "account_inactive",
            "Dit account werd gedeactiveerd; reageren kan niet meer.",
            403,
        )
    if claims.name != identity.name:
        wanted = _chosen_name(claims.name, username_check)
        current_base = user.username
        if username_key(wanted) != username_key(current_base):
            user.username = free_display_name(session, wanted, own_user_id=user.id)
            user.username_key = username_key(user.username)
        identity.name = claims.name
    identity.email = claims.email
    identity.last_seen_at = now
    session.flush()
    return user, identity


def _identity(session: Session, claims: SsoClaims) -> SsoIdentity | None:
    return session.scalar(
        select(SsoIdentity).where(
            SsoIdentity.issuer == claims.issuer, SsoIdentity.subject == claims.subject
        )
    )


CREATE_ATTEMPTS = 3


def _create(
    session: Session,
    claims: SsoClaims,
    username_check: Callable[[str], None] | None,
    now: datetime,
) -> tuple[User, SsoIdentity]:
    wanted = _chosen_name(claims.name, username_check)
    for _attempt in range(CREATE_ATTEMPTS):
        name = free_display_name(session, wanted)
        try:
            with session.begin_nested():
                user = User(
                    username=name,
                    username_key=username_key(name),
                    email=_placeholder_email(claims.issuer, claims.subject),
                    password_hash=NO_PASSWORD,
                    password_login=False,
                    role=Role.FAN,
                    created_at=now,
                )
                session.add(user)
                session.flush()
                identity = SsoIdentity(
                    issuer=claims.issuer,
                    subject=claims.subject,
                    user_id=user.id,
                    name=claims.name,
                    email=claims.email,
                    created_at=now,
                    last_seen_at=now,
                )
                session.add(identity)
                session.flush()
        except IntegrityError:
            # Another request committed first (PostgreSQL; SQLite serialises writers): the
            # same reader's first two tokens at once (two tabs) give its account; another
            # reader took the name meanwhile: the next free name is tried.
            existing = _identity(session, claims)
            if existing is not None:
                found = session.get(User, existing.user_id)
                if found is not None:
                    return found, existing
            continue
        return user, identity
    raise DomainError("sso_busy", "Even geduld: probeer het zo dadelijk opnieuw.", 409)
