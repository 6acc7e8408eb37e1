"""Tribune's application factory: `flask --app app run` finds create_app by itself."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import db
import wiring
from config import load_settings
from parsing import ID_MAX


class RowIdConverter(IntegerConverter):
    """`<int:…>` in a route. A number above any row id becomes 0, which names no row either:
    the view answers its own 404 (poll_not_found …) instead of the driver failing to bind it.
    (Refusing it in the converter would answer 405 where the path has routes for other
    methods.)"""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        return number if number <= ID_MAX else 0


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides every other source (used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.from_mapping(load_settings(Path(app.instance_path), config))
    proxies = app.config["TRIBUNE_TRUSTED_PROXIES"]
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)  # type: ignore[method-assign]
    register_extensions(app)
    register_blueprints(app)
    skip_idle_rate_limit_check(app)
    register_error_handlers(app)
    register_input_checks(app)
    register_commands(app)
    register_template_helpers(app)
    return app


def register_extensions(app: Flask) -> None:
    from extensions import csrf, limiter, login_manager
    from security import SessionCookies
    from views.auth import configure_login

    app.session_interface = SessionCookies()
    db.init_app(app)
    wiring.init_app(app)
    csrf.init_app(app)
    # Flask-Limiter keeps the first app's key prefix; each app (each test) sets its own.
    limiter._key_prefix = app.config["RATELIMIT_KEY_PREFIX"]
    limiter.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager)


def skip_idle_rate_limit_check(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request while it can only find nothing.

    That hook applies default, application, meta and blueprint limits; Tribune sets none (its
    limited views carry @limiter.limit, which checks when the view is called, and the other
    throttles are its own). On a request without limits the hook still resolved them, about
    a tenth of a vote's time. Should any such limit be configured, the hook stays.
    """
    from extensions import limiter

    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or manager._blueprint_limits
        or limiter._meta_limits
    ):
        return
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:
        hooks.remove(limiter._check_request_limit)


def register_blueprints(app: Flask) -> None:
    from views import register_blueprints as register

    register(app)


def register_error_handlers(app: Flask) -> None:
    from errors import register_error_handlers as register

    register(app)


def register_input_checks(app: Flask) -> None:
    from flask import request

    from errors import Invalid
    from parsing import holds_nul

    @app.before_request
    def _refuse_nul_characters() -> None:
        """No text column keeps U+0000 (PostgreSQL refuses it outright): refuse it at the door,
        in the query string, a form or a JSON body, with one clear error."""
        inputs: list[object] = [list(request.args.lists())]
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if request.is_json:
                inputs.append(request.get_json(silent=True))
            else:
                inputs.append(list(request.form.lists()))
        if holds_nul(inputs):
            raise Invalid(
                "invalid_text", "Tekst met een nulteken (U+0000) kunnen we niet verwerken."
            )


def register_commands(app: Flask) -> None:
    from cli import bp as cli_bp

    app.register_blueprint(cli_bp)


def register_template_helpers(app: Flask) -> None:
    from views.templating import register

    register(app)
