"""Unbound extension instances; create_app binds them."""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from flask import g
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from security import client_ip, reads_no_cookie

F = TypeVar("F", bound=Callable[..., Any])


class TribuneCSRFProtect(CSRFProtect):
    """Flask-WTF's CSRF check, except for requests that read no cookie (a bearer token on the
    API or the comments embed: security.reads_no_cookie). The one place that exemption lives;
    marking the request valid also lets their FlaskForms skip the form's own token."""

    def protect(self, apply_exemptions: bool = False) -> None:
        if reads_no_cookie():
            g.csrf_valid = True
            return
        super().protect(apply_exemptions)


login_manager = LoginManager()
csrf = TribuneCSRFProtect()
# auto_check=False: no limit check runs before every request. Tribune sets no default,
# application or meta limits (create_app refuses them); the views that carry
# @limiter.limit check their limits through @limits_checked, the other throttles are its own.
limiter = Limiter(key_func=client_ip, default_limits=[], headers_enabled=True, auto_check=False)


def limits_checked(view: F) -> F:
    """Check the @limiter.limit limits of this view before it runs (429 when one is spent)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        limiter.check()
        return view(*args, **kwargs)

    return cast(F, wrapper)  # wraps keeps the signature of F
