"""Authentication by an embed access token (`Authorization: Bearer tre_…`) and the CORS answers
of the routes the comments embed calls (docs/embed.md).

The token authenticates requests to the `embed_comments` blueprint (the embed's thread, fetched
cross-origin by static/comments.js) and to the /api/v1 comment and embed-session routes,
nothing else. Such a request reads no cookie
(security.SessionCookies skips it), so it carries no ambient credential a foreign page could
borrow: CSRF does not apply to it (extensions.TribuneCSRFProtect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Request, Response, current_app, g, request
from flask.typing import ResponseReturnValue

from accounts import embed_sessions
from db import get_session
from errors import DomainError
from models import EmbedSession, User
from views.poll_support import parent_origin_allowed

F = TypeVar("F", bound=Callable[..., Any])

EMBED_PAGES_BLUEPRINT = "embed_comments"
EMBED_PAGES_PREFIX = "/embed/comments/"
# /api/v1 views of this module take an embed token (the comment routes), besides the views
# marked @takes_embed_token.
EMBED_API_MODULES = frozenset({"views.api_comments"})
CORS_ALLOWED_HEADERS = "Authorization, Content-Type, If-None-Match"
CORS_MAX_AGE = "600"
EMBED_STYLESHEET = "/static/css/embed-comments.css"

EMBED_TOKEN_MESSAGES = {
    embed_sessions.EmbedRefusal.UNKNOWN: "Je aanmelding in de reacties is ongeldig.",
    embed_sessions.EmbedRefusal.EXPIRED: "Je aanmelding in de reacties is verlopen.",
    embed_sessions.EmbedRefusal.ENDED: "Je bent afgemeld in de reacties.",
}
PAGE_HINT = " Je ziet de reacties nu zonder aanmelding; meld je opnieuw aan om te reageren."


def takes_embed_token(view: F) -> F:
    """Mark an /api/v1 view that an embed token may call (besides the comment routes)."""
    view.takes_embed_token = True  # type: ignore[attr-defined]
    return view


def view_takes_embed_token(view: Callable[..., Any] | None) -> bool:
    """True for the API views an embed token authenticates (comments, embed sessions)."""
    if view is None:
        return False
    return view.__module__ in EMBED_API_MODULES or bool(getattr(view, "takes_embed_token", False))


def _endpoint_view(req: Request) -> Callable[..., Any] | None:
    return current_app.view_functions.get(req.endpoint or "")


def embed_token_route(req: Request) -> bool:
    """True when this request's route accepts an embed token."""
    if req.blueprint == EMBED_PAGES_BLUEPRINT:
        return True
    return req.blueprint == "api" and view_takes_embed_token(_endpoint_view(req))


def _bearer(req: Request) -> str | None:
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def presents_embed_token(req: Request) -> bool:
    """True when the request carries an embed token on a route that takes one."""
    token = _bearer(req)
    if token is None:
        # A malformed header on an embed page: refused below, as an unknown token.
        return req.blueprint == EMBED_PAGES_BLUEPRINT
    return embed_token_route(req) and (
        embed_sessions.is_embed_token(token) or req.blueprint == EMBED_PAGES_BLUEPRINT
    )


def load_embed_user(req: Request) -> User | None:
    """The user of the request's embed token. A bad one: 401 on the API; on an embed page the
    anonymous view with a Dutch notice (g.embed_auth_error) for the page to show."""
    found = embed_sessions.authenticate_embed_token(get_session(), _bearer(req) or "")
    if isinstance(found, embed_sessions.EmbedRefusal):
        message = EMBED_TOKEN_MESSAGES[found]
        if req.blueprint == EMBED_PAGES_BLUEPRINT:
            g.embed_auth_error = message + PAGE_HINT
            return None
        if found is embed_sessions.EmbedRefusal.EXPIRED:
            raise DomainError(
                "embed_session_expired", message + " Vraag een nieuwe toegangssleutel.", 401
            )
        raise DomainError("embed_session_invalid", message + " Meld je opnieuw aan.", 401)
    g.embed_session, user = found
    return user


def embed_authenticated() -> bool:
    """True when this request was authenticated by an embed access token."""
    return g.get("embed_session") is not None


def current_embed_session() -> EmbedSession:
    """The embed session row of this request, to change it (refresh, logout); 401 when the
    request was not authenticated by one."""
    found: embed_sessions.LiveEmbedSession | None = g.get("embed_session")
    if found is None:
        raise DomainError(
            "embed_session_required",
            "Stuur de toegangssleutel van de reacties-embed mee (Authorization: Bearer).",
            401,
        )
    return get_session().get_one(EmbedSession, found.id)


# ---------------------------------------------------------------- CORS


def answers_embeds(view: F) -> F:
    """Mark an /api/v1 view that allowed host pages may call (CORS) without an embed token
    (the SSO exchange)."""
    view.answers_embeds = True  # type: ignore[attr-defined]
    return view


def _cors_route() -> bool:
    if request.blueprint == EMBED_PAGES_BLUEPRINT:
        # The thread and its writes, fetched by comments.js from the host page.
        return True
    if request.blueprint != "api":
        return False
    view = _endpoint_view(request)
    return view_takes_embed_token(view) or bool(getattr(view, "answers_embeds", False))


def add_cors_headers(response: Response) -> Response:
    """Let the allowed host pages (EMBED_ALLOWED_ORIGINS; `*` echoes the origin) read the
    embed's answers (its thread under /embed/comments/ and its API routes). Never
    Allow-Credentials: these routes authenticate by bearer token, and a browser sends no
    cookie with a cross-origin request that does not ask for it (comments.js: "omit")."""
    if request.endpoint == "static" and request.path == EMBED_STYLESHEET:
        # A public file comments.js fetches to adopt into its shadow root: any page may read it.
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    if not _cors_route():
        return response
    response.vary.add("Origin")
    origin = parent_origin_allowed(
        request.headers.get("Origin"), current_app.config["EMBED_ALLOWED_ORIGINS"]
    )
    if origin is None:
        return response
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = "ETag, Tribune-Refresh, Tribune-Live"
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        # Every method of the path (GET and POST of one path can be two views).
        adapter = current_app.create_url_adapter(request)
        methods = adapter.allowed_methods() if adapter is not None else ["OPTIONS"]
        response.headers["Access-Control-Allow-Methods"] = ", ".join(sorted(methods))
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def preflight_answer() -> ResponseReturnValue | None:
    """Answer a CORS preflight to an embed route before any auth or write check runs."""
    if (
        request.method == "OPTIONS"
        and "Access-Control-Request-Method" in request.headers
        and _cors_route()
    ):
        return Response(status=204)
    return None


def register_cors(app: Flask) -> None:
    """Preflights and CORS headers for the embed's pages and API routes."""
    app.before_request(preflight_answer)
    app.after_request(add_cors_headers)
