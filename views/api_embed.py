"""/api/v1/embed/sessions: the comments embed's access tokens (docs/embed.md).

A news site's SSO token is exchanged for an embed token; the embed refreshes it before it
expires and revokes it at logout. These routes take no cookie: the SSO token or the embed
token in the Authorization header is the only credential, so they answer allowed host pages
through CORS (views.embed_auth) and need no Origin check.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, jsonify, request
from flask.typing import ResponseReturnValue

from accounts import embed_sessions
from accounts.sso import sign_in_sso, verify_sso_token
from db import get_session
from errors import DomainError
from models import EmbedSession, EmbedVia, User
from views import api_schemas as schemas
from views.api import WRITE_CHECKS, bp, parse_body
from views.embed_auth import answers_embeds, current_embed_session, takes_embed_token
from views.openapi import operation
from wiring import sso_settings

SSO_ERRORS = (
    "sso_invalid (forged, tampered or malformed), sso_algorithm (`none` or an algorithm "
    "without a configured key), sso_expired, sso_claims (sub, name or exp missing or wrong; "
    "exp more than one hour ahead), sso_issuer (iss is not TRIBUNE_SSO_ISSUER), sso_replayed "
    "(issued before this reader's last logout in the embed)."
)
EMBED_TOKEN_ERRORS = (
    "embed_session_expired, embed_session_invalid (unknown or ended), "
    "embed_session_required (no embed token)."
)


def lifetime() -> timedelta:
    """How long an embed token lives (TRIBUNE_EMBED_SESSION_SECONDS)."""
    return timedelta(seconds=current_app.config["TRIBUNE_EMBED_SESSION_SECONDS"])


def session_answer(plain: str, embed: EmbedSession, user: User) -> dict[str, object]:
    """The body of a new embed token (the exchange, the refresh, the popup login)."""
    return {
        "access_token": plain,
        "expires_in": int((embed.expires_at - embed.created_at).total_seconds()),
        "user": {"id": user.id, "name": user.username},
    }


NO_STORE = {"Cache-Control": "no-store"}


def _json_only() -> None:
    # No cookie authenticates this write (the body's SSO token does): JSON, any origin.
    if request.mimetype != "application/json":
        raise DomainError(
            "unsupported_media_type", "Stuur JSON met Content-Type: application/json.", 415
        )


@bp.post("/embed/sessions")
@operation(
    api_token=False,
    body=schemas.EmbedSessionIn,
    responses={201: schemas.EmbedSessionOut},
    errors={
        401: SSO_ERRORS,
        403: "sso_disabled (no SSO key configured), account_inactive.",
        409: "sso_busy (the same reader's first sign-in twice at once: retry).",
    },
)
@answers_embeds
def create_embed_session() -> ResponseReturnValue:
    """Exchange a news site's SSO token for an embed access token.

    The reader's account is created on first use (a fan without password login) and renamed
    when the site's name changes; a name another account has gets " · 2", " · 3" … A banned
    or suspended reader gets a token too: the embed then shows the suspension, as the thread
    on Tribune does, and posting answers 403 banned.
    """
    payload = parse_body(schemas.EmbedSessionIn)
    session = get_session()
    claims = verify_sso_token(payload.sso_token, sso_settings())
    user, identity = sign_in_sso(
        session, claims, current_app.extensions.get("tribune.username_check")
    )
    embed, plain = embed_sessions.issue_embed_session(
        session, user, EmbedVia.SSO, identity=identity, lifetime=lifetime()
    )
    session.commit()
    return jsonify(session_answer(plain, embed, user)), 201, NO_STORE


WRITE_CHECKS[f"{bp.name}.create_embed_session"] = _json_only


@bp.post("/embed/sessions/refresh")
@operation(
    auth="embed",
    api_token=False,
    responses={201: schemas.EmbedSessionOut},
    errors={401: EMBED_TOKEN_ERRORS},
    description="With the embed token (Authorization: Bearer); the old one stops working.",
)
@takes_embed_token
def refresh_embed_session() -> ResponseReturnValue:
    """Replace the embed access token by a new one before it expires."""
    session = get_session()
    embed, plain = embed_sessions.refresh_embed_session(
        session, current_embed_session(), lifetime=lifetime()
    )
    user = session.get(User, embed.user_id)
    assert user is not None  # the token's user was just loaded
    session.commit()
    return jsonify(session_answer(plain, embed, user)), 201, NO_STORE


@bp.delete("/embed/sessions/current")
@operation(
    auth="embed",
    api_token=False,
    responses={204: "Logged out: the token ended; an SSO reader's earlier tokens too."},
    errors={401: EMBED_TOKEN_ERRORS},
)
@takes_embed_token
def delete_embed_session() -> ResponseReturnValue:
    """Log out of the embed: the token ends, and SSO tokens issued before now are refused."""
    session = get_session()
    embed_sessions.revoke_embed_session(session, current_embed_session())
    session.commit()
    return "", 204
