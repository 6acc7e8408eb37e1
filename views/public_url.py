"""Absolute URLs (the OpenAPI server, poll links, the embed snippet) from TRIBUNE_PUBLIC_URL.

With the setting, a request's Host header (which anyone may spoof, and which a shared cache does
not key on) never changes a URL Tribune writes. Without it, URLs follow the request's host as
before; outside development and tests that is logged once per app as a warning.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request, url_for

_WARNED = "tribune.public_url_warned"


def public_base() -> str:
    """scheme://host[:port] of every absolute URL, without a trailing slash."""
    configured: str | None = current_app.config["TRIBUNE_PUBLIC_URL"]
    if configured:
        return configured
    app = current_app
    if not (app.debug or app.testing) and not app.extensions.get(_WARNED):
        app.extensions[_WARNED] = True
        app.logger.warning(
            "TRIBUNE_PUBLIC_URL is not set: absolute URLs follow the request's Host header"
        )
    return request.host_url.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """url_for(endpoint, **values) as an absolute URL on the public base."""
    return public_base() + url_for(endpoint, **values)
