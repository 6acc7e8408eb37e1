"""Security headers shared by every response."""

from flask import Flask, Response, request


def register_headers(app: Flask) -> None:
    """Refuse framing everywhere but /embed/, and keep browsers from sniffing types."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if not request.path.startswith("/embed/"):
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Content-Security-Policy", "frame-ancestors 'none'")
        else:
            # Embeds may be framed by the configured publisher origins only.
            from views.poll_support import frame_ancestors

            response.headers.setdefault(
                "Content-Security-Policy", frame_ancestors(app.config.get("EMBED_ALLOWED_ORIGINS"))
            )
        return response
