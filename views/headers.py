"""Security headers shared by every response: one policy, applied after every view."""

from flask import Flask, Response, request

from security import serves_https
from views.poll_support import frame_ancestors

# Every answer: scripts, styles, images, fetches and forms from this origin only, no plugins,
# no <base>. Templates carry no inline script, event handler or style attribute (tests check).
CONTENT_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'"
)
# Pages that show one person's data (and CSRF tokens): never kept by a shared or browser cache.
# /reacties: a fan's own comment actions (the delete confirm page shows their comment).
PRIVATE_AREAS = ("/profiel", "/reacties", "/moderatie", "/redactie", "/beheer")
PRIVATE_CACHE = "private, no-store"


def is_private_path(path: str) -> bool:
    """True for /profiel, /reacties, the staff areas and everything under them."""
    return any(path == area or path.startswith(area + "/") for area in PRIVATE_AREAS)


def register_headers(app: Flask) -> None:
    """Add the CSP, framing, caching and HSTS headers to every answer."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # A view may set its own; only the missing ones are added (Cache-Control on a private
        # page excepted). (Werkzeug's setdefault raises and catches an exception for every
        # header not there yet: on every answer.)
        present = {name.lower() for name, _ in response.headers}
        wanted = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]
        if not request.path.startswith("/embed/"):
            wanted += [
                ("X-Frame-Options", "DENY"),
                ("Content-Security-Policy", CONTENT_POLICY + "; frame-ancestors 'none'"),
            ]
        else:
            # Embeds may be framed by the configured publisher origins only.
            ancestors = frame_ancestors(app.config["EMBED_ALLOWED_ORIGINS"])
            wanted.append(("Content-Security-Policy", f"{CONTENT_POLICY}; {ancestors}"))
        max_age = app.config["TRIBUNE_HSTS_MAX_AGE"]
        if max_age > 0 and serves_https():
            wanted.append(("Strict-Transport-Security", f"max-age={max_age}"))
        for name, value in wanted:
            if name.lower() not in present:
                response.headers.add(name, value)
        if is_private_path(request.path):
            # No view may make a private page cacheable (a looser view header is replaced).
            response.headers["Cache-Control"] = PRIVATE_CACHE
        return response
