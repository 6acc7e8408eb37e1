"""Request-level protection: client IPs, keyed IP hashes, JSON write checks, role guards."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_login import current_user
from itsdangerous import URLSafeTimedSerializer

from errors import DomainError
from models import Role, utcnow

F = TypeVar("F", bound=Callable[..., Any])


def client_ip() -> str:
    """The client's address; ProxyFix has already applied the trusted proxy count."""
    return request.remote_addr or "0.0.0.0"


def ip_network_key(address: str) -> str:
    """IPv6 clients are grouped by /64 (one household or phone); IPv4 by address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False).network_address) + "/64"
    return str(ip)


def hash_ip(address: str, key: str) -> str:
    """Keyed hash of an IP (by network): lets us count per address without storing it."""
    return hmac.new(key.encode(), ip_network_key(address).encode(), hashlib.sha256).hexdigest()


def current_ip_hash() -> str:
    """The keyed hash of the current request's client IP."""
    return hash_ip(client_ip(), current_app.config["TRIBUNE_IP_HASH_KEY"])


def serves_https() -> bool:
    """True when this answer goes out over HTTPS as TRIBUNE_HTTPS sees it: `always`, `never`,
    or `auto` = the request's own scheme (behind a proxy, X-Forwarded-Proto counts only through
    ProxyFix, i.e. from TRIBUNE_TRUSTED_PROXIES)."""
    mode = current_app.config["TRIBUNE_HTTPS"]
    return mode == "always" or (mode == "auto" and request.is_secure)


def mark_cookies_secure(response: Response) -> None:
    """Add `Secure` to every cookie the response sets that lacks it (the remember-me cookie:
    Flask-Login's REMEMBER_COOKIE_SECURE is fixed at startup, the scheme is not)."""
    cookies = response.headers.getlist("Set-Cookie")
    if all(_has_secure(cookie) for cookie in cookies):
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        response.headers.add("Set-Cookie", cookie if _has_secure(cookie) else cookie + "; Secure")


def _has_secure(cookie: str) -> bool:
    return any(part.strip().lower() == "secure" for part in cookie.split(";")[1:])


def same_origin(origin: str) -> bool:
    """True when an Origin (or Referer) header names exactly this site (scheme, host, port).

    Compared with the request's own scheme and Host header as received (after the trusted
    proxy's), as browsers send them: request.host_url would build and IRI-decode a URL first.
    """
    given = urlsplit(origin)
    return (given.scheme, given.netloc) == (request.scheme, request.host)


def check_json_write() -> None:
    """Cookie-authenticated JSON writes need a JSON body and this site's Origin (docs/design.md)."""
    bodyless = request.method == "DELETE" and not request.content_length
    if not bodyless and request.mimetype != "application/json":
        raise DomainError(
            "unsupported_media_type", "Stuur JSON met Content-Type: application/json.", 415
        )
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or not same_origin(origin):
        raise DomainError(
            "origin_mismatch", "Dit verzoek komt niet van deze site en werd geweigerd.", 403
        )


def reads_no_cookie() -> bool:
    """True when this request carries an Authorization header (or is a host page's cross-origin
    fetch of the comments embed) where that means the session and remember-me cookies are
    not read (SessionCookies.skips): it holds no ambient
    credential that another site could make a browser send, so CSRF cannot apply to it."""
    return ("Authorization" in request.headers or _cross_origin(request)) and bool(
        current_app.session_interface.skips(current_app, request)  # type: ignore[attr-defined]
    )


def role_required(*roles: Any) -> Callable[[F], F]:
    """Only logged-in users with one of these roles may call the view.

    Anonymous users go to the login page (pages) or get 401 (API); others get 403. A staff
    view (one fans may not call) also refuses a suspended or banned user while it lasts (403
    `staff_suspended`): a suspended moderator neither moderates nor lifts their own suspension.
    The roles are kept on the view so tests can build the permission matrix from the URL map.
    """

    staff_only = Role.FAN not in roles

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                # Flask-Login's LoginManager.init_app sets app.login_manager (untyped).
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in roles:
                raise DomainError("forbidden", "Je hebt geen toegang tot deze pagina.", 403)
            if staff_only and current_user.is_banned(utcnow()):
                raise DomainError(
                    "staff_suspended",
                    "Je bent geschorst: zolang dat duurt, heb je geen toegang tot deze pagina.",
                    403,
                )
            return view(*args, **kwargs)

        # A function attribute mypy cannot declare; tests build the permission matrix from it.
        wrapper.required_roles = frozenset(roles)  # type: ignore[attr-defined]
        return cast(F, wrapper)  # wraps keeps the signature of F

    return decorator


def login_required_any(view: F) -> F:
    """Any logged-in user (every role) may call the view."""
    return role_required(*Role)(view)


def sessionless(view: F) -> F:
    """Mark a view whose answer is the same for everyone: its request reads no session cookie
    and its response sets none (and so carries no "Vary: Cookie")."""
    # A function attribute mypy cannot declare; SessionCookies reads it.
    view.sessionless = True  # type: ignore[attr-defined]
    return view


class UnsavedSession(SecureCookieSession):
    """An empty session that is never saved: a sessionless view's, or a token request's."""


def _cross_origin(request: Request) -> bool:
    """True when the request says it comes from another origin's page (a CORS fetch of the
    comments embed from a host page): it gets no session cookie, even an anonymous one."""
    origin = request.headers.get("Origin")
    return bool(origin) and (origin != f"{request.scheme}://{request.host}")


class SessionCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, skipped where no cookie belongs, with its serializer
    built once per key set, and `Secure` on every cookie of an HTTPS answer (serves_https).

    Skipped: the paths of @sessionless views (the session is opened before the URL is matched,
    so they are known by path), and requests under `token_path_prefix` (the API and the
    comments embed's routes) with an Authorization header (a token request is its token's
    user, whatever cookie a browser sends along) or, under `cross_origin_prefix` only, with
    another origin's Origin header (a host page's fetch of the comments embed is anonymous
    or a token request, never a cookie one). Flask builds the serializer twice
    per request (to open and to save the session), although it only changes with SECRET_KEY
    or SECRET_KEY_FALLBACKS.
    Flask's SESSION_COOKIE_SECURE is one value for every request; here it is the request's:
    saving the session is the last step of every answer, after Flask-Login has set or cleared
    the remember-me cookie, so the other cookies get their flag here too.
    """

    def __init__(
        self,
        token_path_prefix: str | tuple[str, ...] | None = None,
        cross_origin_prefix: str | None = None,
    ) -> None:
        self.token_path_prefix = token_path_prefix
        self.cross_origin_prefix = cross_origin_prefix
        self._built: tuple[tuple[Any, ...], URLSafeTimedSerializer | None] | None = None
        self._sessionless_paths: frozenset[str] | None = None

    def sessionless_paths(self, app: Flask) -> frozenset[str]:
        """The paths of the @sessionless views (fixed routes only), found once."""
        if self._sessionless_paths is None:
            paths = set()
            for rule in app.url_map.iter_rules():
                if getattr(app.view_functions.get(rule.endpoint), "sessionless", False):
                    if rule.arguments:
                        raise ValueError(f"@sessionless needs a fixed path, not {rule.rule}")
                    paths.add(rule.rule)
            self._sessionless_paths = frozenset(paths)
        return self._sessionless_paths

    def skips(self, app: Flask, request: Request) -> bool:
        """True when this request neither reads nor writes the session cookie."""
        if request.path in self.sessionless_paths(app):
            return True
        return bool(
            self.token_path_prefix
            and request.path.startswith(self.token_path_prefix)
            and ("Authorization" in request.headers or self.cross_origin_embed(request))
        )

    def cross_origin_embed(self, request: Request) -> bool:
        """A host page's fetch of the comments embed (under `cross_origin_prefix`)."""
        return bool(
            self.cross_origin_prefix
            and request.path.startswith(self.cross_origin_prefix)
            and _cross_origin(request)
        )

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if self.skips(app, request):
            return UnsavedSession()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or serves_https()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, UnsavedSession):
            super().save_session(app, session, response)
        if serves_https():
            mark_cookies_secure(response)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built = self._built
        if built is None or built[0] != keys:
            built = self._built = (keys, super().get_signing_serializer(app))
        return built[1]
