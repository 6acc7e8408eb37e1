"""Tribune's application factory: `flask --app app run` finds create_app by itself."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

import cli
import db
import errors
import ops.web
import views
import wiring
from compression import register_compression
from config import SettingError, load_settings
from errors import Invalid
from extensions import csrf, limiter, login_manager
from parsing import ID_MAX, unstorable_text
from security import SessionCookies
from views import templating
from views.api import API_PREFIX
from views.auth import configure_login
from views.embed_auth import EMBED_PAGES_PREFIX

# Modules that subscribe to domain events (events.subscribe) or add worker jobs
# (outbox.periodic_job): importing one registers it.
EVENT_HANDLER_MODULES = (
    "polls.announcements",
    "privacy.retention",
    "webhooks.subscribers",
    "webhooks.delivery",
    "webhooks.export",
    "notifications.subscribers",
    "notifications.digest",
    "notifications.alerts",
    "notifications.export",
    "scoring.jobs",
    "dsa.export",
)


class RowIdConverter(IntegerConverter):
    """`<int:…>` in a route. A number above any row id becomes 0, which names no row either:
    the view answers its own 404 (poll_not_found …) instead of the driver failing to bind it.
    (Refusing it in the converter would answer 405 where the path has routes for other
    methods.)"""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        return number if number <= ID_MAX else 0


class TribuneJSONProvider(DefaultJSONProvider):
    """Flask's JSON, except that a body nested too deeply for the parser (json.loads raises
    RecursionError near 1,000 levels) is broken JSON like any other: every get_json() of the
    app then answers 400 invalid_json (or None when silent) instead of a 500."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError as exc:
            raise ValueError("JSON nested too deeply") from exc


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides every other source (used by tests)."""
    app = Flask(__name__, instance_relative_config=True)
    app.json = TribuneJSONProvider(app)
    app.url_map.converters["int"] = RowIdConverter  # before any route is added
    app.config.from_mapping(load_settings(Path(app.instance_path), config))
    proxies = app.config["TRIBUNE_TRUSTED_PROXIES"]
    if proxies:
        # Flask's documented way to add WSGI middleware; mypy sees a method being replaced.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    register_extensions(app)
    register_blueprints(app)
    register_compression(app)
    register_error_handlers(app)
    register_input_checks(app)
    register_commands(app)
    register_template_helpers(app)
    register_event_handlers(app)
    return app


def register_extensions(app: Flask) -> None:
    app.session_interface = SessionCookies(
        token_path_prefix=(API_PREFIX + "/", EMBED_PAGES_PREFIX),
        cross_origin_prefix=EMBED_PAGES_PREFIX,
    )
    db.init_app(app)
    wiring.init_app(app)
    # First of the after_request hooks to be added, so the last to run: the request's
    # duration, log line and metrics cover the others.
    ops.web.init_app(app)
    csrf.init_app(app)
    refuse_request_wide_limits(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    configure_login(login_manager)


def refuse_request_wide_limits(app: Flask) -> None:
    """The limiter checks only the views marked @limits_checked (it runs with auto_check=False),
    so a default, application or meta limit would be silently ignored: refuse one at startup."""
    limit_keys = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")
    configured = [key for key in limit_keys if key in app.config and app.config[key]]
    if configured:
        raise SettingError(
            f"{', '.join(configured)}: Tribune checks rate limits per view (@limits_checked); "
            "request-wide limits are not supported"
        )


def register_blueprints(app: Flask) -> None:
    views.register_blueprints(app)


def register_error_handlers(app: Flask) -> None:
    errors.register_error_handlers(app)


def register_input_checks(app: Flask) -> None:
    @app.before_request
    def _refuse_unstorable_text() -> None:
        """No text column keeps U+0000 (PostgreSQL refuses it outright) or a lone surrogate
        (JSON's "\\ud800": no UTF-8 encoding): refuse them at the door, in the query string, a
        form or a JSON body, with one clear error. (Werkzeug decodes query strings and forms
        with replacement characters, so surrogates arrive only in JSON.)"""
        inputs: list[object] = [list(request.args.lists())]
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if request.is_json:
                inputs.append(request.get_json(silent=True))
            else:
                inputs.append(list(request.form.lists()))
        problem = unstorable_text(inputs)
        if problem == "nul":
            raise Invalid(
                "invalid_text", "Tekst met een nulteken (U+0000) kunnen we niet verwerken."
            )
        if problem == "surrogate":
            raise Invalid(
                "invalid_text",
                "Tekst met een los surrogaatteken (zoals \\ud800) kunnen we niet verwerken.",
            )


def register_commands(app: Flask) -> None:
    app.register_blueprint(cli.bp)


def register_template_helpers(app: Flask) -> None:
    templating.register(app)


def register_event_handlers(app: Flask) -> None:
    load_event_handlers()


def load_event_handlers() -> None:
    """Import every module that registers handlers, jobs, export sections or erasers."""
    for name in EVENT_HANDLER_MODULES:
        importlib.import_module(name)
