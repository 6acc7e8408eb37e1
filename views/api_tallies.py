"""GET /api/v1/tallies?ids=a,b,c: public, cacheable tallies for a headline list.

The response is the same for everyone, so it carries `Cache-Control: public`, a strong ETag
(304 on If-None-Match) and `Access-Control-Allow-Origin: *` (no credentials), on errors too,
so counts.js on another site can read them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, request
from flask.typing import ResponseReturnValue

from caching import TallyCache, build_tally_cache
from db import get_session
from errors import DomainError, error_response
from security import sessionless
from tallies.ids import parse_ids
from tallies.reading import TallySnapshot, load_snapshot
from views import api_schemas as schemas
from views.api import bp
from views.openapi import operation


def tally_cache() -> TallyCache:
    """The app's tally cache, built on first use from the settings."""
    cache = current_app.extensions.get("tribune.tally_cache")
    if cache is None:
        config = current_app.config
        cache = build_tally_cache(
            config["TRIBUNE_TALLY_CACHE_SECONDS"],
            current_app.extensions.get("tribune.redis"),
            config["TRIBUNE_REDIS_PREFIX"],
        )
        current_app.extensions["tribune.tally_cache"] = cache
    return cache


def requested_snapshot() -> TallySnapshot:
    """The tallies for this request's `ids` (422 when they are missing or malformed)."""
    ids = parse_ids(request.args.get("ids"))
    return load_snapshot(ids, tally_cache(), get_session)


def public_headers(response: Response) -> Response:
    """Cross-origin readable by anyone; no cookies are involved."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "ETag"
    return response


def cacheable(response: Response, etag: str) -> Response:
    """Public caching headers, and 304 when the client already holds these bytes."""
    config = current_app.config
    max_age = config["TRIBUNE_TALLY_MAX_AGE"]
    stale = config["TRIBUNE_TALLY_STALE_SECONDS"]
    response.headers["Cache-Control"] = f"public, max-age={max_age}, stale-while-revalidate={stale}"
    response.headers["ETag"] = etag
    if etag in _if_none_match():
        response.status_code = 304
        response.set_data(b"")
        response.headers.pop("Content-Length", None)
    return public_headers(response)


def _if_none_match() -> set[str]:
    # Weak comparison, as RFC 9110 prescribes for If-None-Match; "*" matches any tag.
    header = request.headers.get("If-None-Match", "")
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}
    return tags


def public_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    """A public view's errors: in the usual shape, readable cross-origin, not cached."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except DomainError as error:
            body, status = error_response(
                error.status_code, error.code, error.message, error.details
            )
            response = current_app.make_response((body, status))
            response.headers["Cache-Control"] = "no-store"
            return public_headers(response)

    return wrapper


@bp.route("/tallies", methods=["GET", "OPTIONS"], provide_automatic_options=False)
@operation(
    "GET",
    summary=f"Comments and votes of up to {schemas.MAX_IDS} articles, cacheable by a CDN.",
    query=schemas.TalliesQuery,
    headers=schemas.TalliesHeaders,
    responses={200: schemas.Tallies, 304: "Not modified: the ETag matched."},
    errors={422: "missing_ids, invalid_article_id or too_many_ids."},
    description="Ids are validated, deduplicated and sorted (the cache key). comments = "
    "published comments including replies; votes = ballots not in quarantine over the "
    "article's polls. Public and cacheable: Cache-Control public with max-age and "
    "stale-while-revalidate, a strong ETag (304 on If-None-Match), and "
    "Access-Control-Allow-Origin: *, on errors too.",
)
@operation(
    "OPTIONS",
    summary="CORS preflight.",
    responses={204: "The allowed methods and headers."},
)
@sessionless  # the same answer for everyone: no Set-Cookie, no "Vary: Cookie"
@public_errors
def tallies() -> ResponseReturnValue:
    """`{"a": {"comments": n, "votes": n}, …}` for up to 100 ids; unknown ids give zeros."""
    if request.method == "OPTIONS":
        return preflight()
    snapshot = requested_snapshot()
    response = Response(snapshot.body, mimetype="application/json")
    return cacheable(response, snapshot.etag)


def preflight() -> Response:
    """CORS preflight (browsers send one only when a client adds non-simple headers)."""
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "If-None-Match"
    response.headers["Access-Control-Max-Age"] = "86400"
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    return public_headers(response)
