"""The account's own data through the JSON API (registered on the api blueprint)."""

from __future__ import annotations

from flask import jsonify
from flask.typing import ResponseReturnValue
from flask_login import current_user

from db import get_session
from privacy.export import export_user_data
from security import login_required_any
from views import api_schemas as schemas
from views.api import bp
from views.openapi import operation


@bp.get("/me/export")
@operation(auth="login", responses={200: schemas.AccountExport})
@login_required_any
def my_export() -> ResponseReturnValue:
    """Everything Tribune holds about the caller's account (the export of /profiel)."""
    return (
        jsonify(export_user_data(get_session(), current_user)),
        200,
        {"Cache-Control": "private, no-store"},
    )
