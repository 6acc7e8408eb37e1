"""Security headers shared by every response."""

from flask import Flask, Response, request

from views.poll_support import frame_ancestors


def register_headers(app: Flask) -> None:
    """Refuse framing everywhere but /embed/, and keep browsers from sniffing types."""

    @app.after_request
    def _security_headers(response: Response) -> Response:
        # A view may set its own; only the missing ones are added. (Werkzeug's setdefault
        # raises and catches an exception for every header not there yet: on every answer.)
        present = {name.lower() for name, _ in response.headers}
        wanted = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ]
        if not request.path.startswith("/embed/"):
            wanted += [
                ("X-Frame-Options", "DENY"),
                ("Content-Security-Policy", "frame-ancestors 'none'"),
            ]
        else:
            # Embeds may be framed by the configured publisher origins only.
            wanted.append(
                (
                    "Content-Security-Policy",
                    frame_ancestors(app.config["EMBED_ALLOWED_ORIGINS"]),
                )
            )
        for name, value in wanted:
            if name.lower() not in present:
                response.headers.add(name, value)
        return response
