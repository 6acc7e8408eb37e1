"""One error shape: DomainError for rule violations; JSON on the API, Dutch pages elsewhere."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


class DomainError(Exception):
    """A business rule said no; carries the HTTP status and a stable snake_case code."""

    status_code = 400

    def __init__(
        self,
        code: str,
        message: str,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.details = details


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class Invalid(DomainError):
    status_code = 422


# Default code and Dutch message per status, for errors raised by Flask/Werkzeug themselves.
STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Het verzoek is ongeldig."),
    401: ("login_required", "Je moet aangemeld zijn."),
    403: ("forbidden", "Je hebt geen toegang tot deze pagina."),
    404: ("not_found", "Deze pagina bestaat niet (meer)."),
    405: ("method_not_allowed", "Deze methode is hier niet toegestaan."),
    409: ("conflict", "Dit kan niet in de huidige toestand."),
    413: ("payload_too_large", "Het verzoek is te groot."),
    415: ("unsupported_media_type", "Stuur JSON met Content-Type: application/json."),
    422: ("validation_failed", "Niet alle velden zijn geldig."),
    429: ("rate_limited", "Te veel verzoeken. Probeer het straks opnieuw."),
    500: ("internal_error", "Er ging iets mis aan onze kant. Probeer het later opnieuw."),
    503: (
        "service_unavailable",
        "Tribune is even niet bereikbaar. Probeer het over enkele seconden opnieuw.",
    ),
}


def wants_json() -> bool:
    """API paths and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> tuple[Response | str, int]:
    """Render an error in the shape the client expects."""
    if wants_json():
        body: dict[str, Any] = {"code": code, "message": message}
        if details:
            body["details"] = details
        return jsonify(error=body), status
    template = f"errors/{status}.html" if status in (403, 404, 429, 500) else "errors/generic.html"
    return render_template(template, status=status, code=code, message=message), status


def _rollback() -> None:
    session = g.get("db_session")
    if session is not None:
        session.rollback()


def register_error_handlers(app: Flask) -> None:
    """Map every error to the one shape."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError) -> tuple[Response | str, int]:
        _rollback()
        response, status = error_response(
            error.status_code, error.code, error.message, error.details
        )
        return response, status

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[Response | str, int]:
        return error_response(
            400,
            "csrf_failed",
            "Je formulier is verlopen of ongeldig. Laad de pagina opnieuw en probeer nog eens.",
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        code, message = STATUS_ERRORS.get(status, ("error", error.description or "Fout."))
        response, status = error_response(status, code, message)
        if wants_json() and status == 405 and hasattr(error, "valid_methods"):
            # Keep the Allow header Werkzeug computed.
            original = error.get_response()
            allow = original.headers.get("Allow")
            if allow and isinstance(response, Response):
                response.headers["Allow"] = allow
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        _rollback()
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        code, message = STATUS_ERRORS[500]
        return error_response(500, code, message)
