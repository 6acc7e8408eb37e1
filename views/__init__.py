"""HTTP only: one blueprint per audience, each named `bp` in its module."""

from flask import Flask

# api_comments, api_embed, api_polls, api_privacy and api_tallies add their routes to api.bp
# when imported.
from views import (  # noqa: F401
    admin,
    api,
    api_comments,
    api_embed,
    api_polls,
    api_privacy,
    api_tallies,
    auth,
    care,
    comments,
    deliveries,
    editor,
    embed,
    embed_comments,
    embed_session,
    fragments,
    matchday,
    moderator,
    notices,
    notifications,
    ops,
    pages,
    predictions,
    votes,
    webhooks,
)
from views.embed_auth import register_cors
from views.headers import register_headers


def register_blueprints(app: Flask) -> None:
    """Attach every blueprint and the response headers shared by all routes."""
    for module in (pages, comments, auth, admin, deliveries, api, fragments, moderator, matchday):
        app.register_blueprint(module.bp)
    for module in (votes, embed, embed_session, editor, webhooks, notifications, care, notices):
        app.register_blueprint(module.bp)
    app.register_blueprint(predictions.bp)
    app.register_blueprint(embed_comments.bp)
    app.register_blueprint(embed_comments.signin_bp)
    app.register_blueprint(ops.bp)
    register_headers(app)
    register_cors(app)
