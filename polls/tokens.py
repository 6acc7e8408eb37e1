"""Signed tokens for the poll widget: anonymous voter tokens and embed form tokens.

A voter token is issued by the server (rate-limited per IP hash), names one poll and carries a
random token id; the ballot's voter key is "a:<token id>". Because the token is signed with the
app's SECRET_KEY and bound to its poll, it cannot be forged, reused on another poll, or kept
past its lifetime. It travels in a header or a form field, never only in a cookie, so voting
works in iframes whose third-party cookies are blocked.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from errors import DomainError

VOTER_SALT = "tribune.poll.voter-token.v1"
FORM_SALT = "tribune.poll.embed-form.v1"


class VoterTokenError(DomainError):
    """A voter token that is forged, expired or made for another poll."""

    status_code = 403


@dataclass(frozen=True)
class VoterToken:
    poll_id: int
    token_id: str
    issued_at: datetime

    @property
    def voter_key(self) -> str:
        return f"a:{self.token_id}"


@lru_cache(maxsize=16)
def _serializer(secret: str, salt: str) -> URLSafeTimedSerializer:
    # Built once per secret and salt (it holds no per-token state), not once per vote.
    return URLSafeTimedSerializer(secret, salt=salt)


def issue_voter_token(secret: str, poll_id: int) -> str:
    """A new signed anonymous voter token for one poll."""
    return _serializer(secret, VOTER_SALT).dumps({"p": poll_id, "t": secrets.token_urlsafe(16)})


def read_voter_token(secret: str, token: str, poll_id: int, max_age: int) -> VoterToken:
    """Verify a voter token for `poll_id`; 403 when forged, expired or foreign."""
    try:
        data, issued = _serializer(secret, VOTER_SALT).loads(
            token, max_age=max_age, return_timestamp=True
        )
    except SignatureExpired:
        raise VoterTokenError(
            "voter_token_expired", "Je stemsleutel is verlopen. Laad de peiling opnieuw."
        ) from None
    except BadSignature:
        raise VoterTokenError("invalid_voter_token", "Je stemsleutel is ongeldig.") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("t"), str)
        or not isinstance(data.get("p"), int)
        or not 16 <= len(data["t"]) <= 40
    ):
        raise VoterTokenError("invalid_voter_token", "Je stemsleutel is ongeldig.")
    if data["p"] != poll_id:
        raise VoterTokenError(
            "foreign_voter_token", "Deze stemsleutel hoort bij een andere peiling."
        )
    when = issued if issued.tzinfo else issued.replace(tzinfo=UTC)
    return VoterToken(poll_id=poll_id, token_id=data["t"], issued_at=when)


def issue_form_token(secret: str, poll_id: int) -> str:
    """A signed per-poll token for the embed's plain HTML form (CSRF without cookies)."""
    return _serializer(secret, FORM_SALT).dumps(poll_id)


def check_form_token(secret: str, token: str, poll_id: int, max_age: int) -> None:
    """Refuse an embed form post whose form token is missing, forged, stale or foreign."""
    try:
        data = _serializer(secret, FORM_SALT).loads(token, max_age=max_age)
    except SignatureExpired:
        raise DomainError(
            "form_expired", "Het formulier is verlopen. Laad de peiling opnieuw.", 400
        ) from None
    except BadSignature:
        raise DomainError("invalid_form_token", "Het formulier is ongeldig.", 400) from None
    if data != poll_id:
        raise DomainError("invalid_form_token", "Het formulier is ongeldig.", 400)
