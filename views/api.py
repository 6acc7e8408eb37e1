"""The JSON API under /api/v1: token or session auth, one error shape, an OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Request, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from pydantic import BaseModel, ValidationError

from accounts import services as accounts
from articles import services as articles
from db import get_session, in_write_transaction, session_scope
from errors import DomainError
from extensions import csrf
from models import Article, Role, TokenScope, User, utcnow
from security import check_json_write, role_required
from views import api_schemas as schemas
from views.embed_auth import embed_authenticated
from views.openapi import READS, openapi_document, operation, operations_of
from views.public_url import public_base

API_PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=API_PREFIX)
# The API has its own write protection (token, or JSON + Origin); form CSRF tokens do not apply.
csrf.exempt(bp)

ModelT = TypeVar("ModelT", bound=BaseModel)
# Endpoints with their own write check instead of check_json_write (the poll widget's routes,
# whose anonymous voters carry a signed voter token, not a cookie: see views/poll_support.py).
WRITE_CHECKS: dict[str, Callable[[], None]] = {}


def load_token_user(request: Request) -> User | None:
    """The user of an API request's Bearer token (401 when it is malformed or unknown).

    Flask-Login asks this (views.auth.configure_login) when the request has no session user;
    API requests with an Authorization header open no session cookie (security.SessionCookies),
    so the token decides, whatever cookie comes along. Pages do not take tokens.
    """
    header = request.headers.get("Authorization", "")
    if request.blueprint != bp.name or not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise DomainError("invalid_token", "Gebruik 'Authorization: Bearer <sleutel>'.", 401)
    session = get_session()
    found = accounts.valid_token(session, token.strip())
    if found is None:
        raise DomainError("invalid_token", "Deze API-sleutel is ongeldig of ingetrokken.", 401)
    now = utcnow()
    if accounts.token_use_due(found, now):
        if in_write_transaction(session):
            accounts.mark_token_used(session, found.id, now)
        else:
            # A read (or read-first) request does not write in its own transaction: on
            # SQLite its snapshot could not become a writer once another worker committed.
            with session_scope(current_app) as writer:
                accounts.mark_token_used(writer, found.id, now)
    g.token_auth = True
    g.api_token = found
    return found.user


def token_authenticated() -> bool:
    """True when this request was authenticated by an API token (not by a cookie)."""
    return bool(g.get("token_auth", False))


@bp.before_request
def _authenticate() -> None:
    """A Bearer token authenticates the request; cookie writes need JSON and our Origin."""
    if "Authorization" in request.headers:
        # Reading current_user runs the loader now: a bad token is refused here.
        if current_user.is_authenticated and embed_authenticated():
            # An embed token reaches only the comment and embed-session routes
            # (views.embed_auth): it acts as its fan there, and reads no cookie.
            return
        if current_user.is_anonymous or not token_authenticated():
            # Only a token authenticates a request that carries one (never a cookie).
            raise DomainError(
                "invalid_token", "Stuur een API-sleutel zonder aanmeldcookie mee.", 401
            )
        if request.method not in READS and request.endpoint in current_app.view_functions:
            # Every write states the scope a token needs (@operation(scope=…)); none: no token.
            recorded = operations_of(current_app.view_functions[request.endpoint])
            spec = recorded.get(request.method) or recorded.get(None)
            accounts.check_token_scope(g.api_token, spec.scope if spec else None)
        return
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        WRITE_CHECKS.get(request.endpoint or "", check_json_write)()


def parse_body(model: type[ModelT]) -> ModelT:
    """Parse and validate a JSON body: 415 for other types, 400 for broken JSON, 422 per field."""
    if request.mimetype != "application/json":
        raise DomainError(
            "unsupported_media_type", "Stuur JSON met Content-Type: application/json.", 415
        )
    data = request.get_json(silent=True)
    if data is None:
        raise DomainError("invalid_json", "De body is geen geldige JSON.", 400)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = {
            ".".join(str(part) for part in error["loc"]) or "body": error["msg"]
            for error in exc.errors()
        }
        raise DomainError(
            "validation_failed", "Niet alle velden zijn geldig.", 422, {"fields": fields}
        ) from None


def json_object() -> dict[str, Any]:
    """A JSON object body: 415 for other types, 400 for broken JSON or a non-object."""
    if request.mimetype != "application/json":
        raise DomainError(
            "unsupported_media_type", "Stuur JSON met Content-Type: application/json.", 415
        )
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise DomainError("invalid_json", "De body is geen geldig JSON-object.", 400)
    return data


def article_json(article: Article) -> dict[str, Any]:
    """The public view of an article."""
    return {
        "id": article.cms_id,
        "title": article.title,
        "url": article.url,
        "teaser": article.teaser,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "comment_mode": article.comment_mode.value,
        "comments": article.comment_count,
        "votes": article.vote_count,
    }


@bp.get("/articles/<article_id>")
@operation(
    responses={200: schemas.ArticleOut},
    errors={404: "article_not_found", 422: "invalid_article_id"},
)
def get_article(article_id: str) -> ResponseReturnValue:
    """One article with its tallies."""
    articles.validate_article_id(article_id)
    return jsonify(article_json(articles.get_article(get_session(), article_id)))


@bp.put("/articles/<article_id>")
@operation(
    auth="editor",
    scope=TokenScope.ARTICLES_WRITE,
    body=schemas.ArticleIn,
    responses={200: schemas.ArticleOut, 201: schemas.ArticleOut},
    errors={422: "invalid_article_id"},
)
@role_required(Role.EDITOR, Role.ADMIN)
def put_article(article_id: str) -> ResponseReturnValue:
    """Register or update an article (the CMS, with an editor token)."""
    articles.validate_article_id(article_id)
    payload = parse_body(schemas.ArticleIn)
    if payload.published_at is not None and payload.published_at.tzinfo is None:
        raise DomainError(
            "validation_failed",
            "Niet alle velden zijn geldig.",
            422,
            {"fields": {"published_at": "needs a time zone offset, e.g. 2026-05-01T18:00:00Z"}},
        )
    session = get_session()
    article, created = articles.register_article(
        session,
        article_id,
        articles.ArticleFields(
            title=payload.title,
            url=str(payload.url) if payload.url else None,
            teaser=payload.teaser,
            body=payload.body,
            published_at=payload.published_at,
            comment_mode=payload.comment_mode,
        ),
        current_user,
    )
    session.commit()
    return jsonify(article_json(article)), 201 if created else 200


@bp.get("/openapi.json")
@operation(responses={200: schemas.OpenAPIDocument})
def openapi() -> ResponseReturnValue:
    """This document: OpenAPI 3.1, generated from the models of each operation."""
    # Built once per app; only the server URL follows the request.
    document = current_app.extensions.get("tribune.openapi")
    if document is None:
        document = current_app.extensions["tribune.openapi"] = openapi_document(current_app)
    return jsonify({**document, "servers": [{"url": public_base()}]})
