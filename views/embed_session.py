"""POST /embed/sessie: the popup login hands the comments embed an access token.

The popup (/embed/aanmelden) is a first-party window on Tribune's origin: the fan signs in
with the normal login or registration form, so the session cookie is there. The popup page
then asks this route, same-origin with the cookie and the CSRF token (X-CSRFToken header),
for an embed token and passes it to the embed with postMessage (docs/embed.md). The token is
what the third-party iframe keeps, since its own cookies may be blocked.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from accounts import embed_sessions
from db import get_session
from models import EmbedVia
from security import login_required_any
from views.api_embed import NO_STORE, lifetime, session_answer

bp = Blueprint("embed_session", __name__, url_prefix="/embed")


@bp.post("/sessie")
@login_required_any
def create() -> ResponseReturnValue:
    """An embed access token for the signed-in fan (201, JSON)."""
    session = get_session()
    user = current_user._get_current_object()
    embed, plain = embed_sessions.issue_embed_session(
        session, user, EmbedVia.LOGIN, lifetime=lifetime()
    )
    session.commit()
    return jsonify(session_answer(plain, embed, user)), 201, NO_STORE
