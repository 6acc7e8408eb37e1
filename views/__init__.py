"""HTTP only: one blueprint per audience, each named `bp` in its module."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the response headers shared by all routes."""
    from views import admin, api, auth, pages
    from views.headers import register_headers

    for module in (pages, auth, admin, api):
        app.register_blueprint(module.bp)
    register_headers(app)
