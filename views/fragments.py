"""HTML fragments for sites that assemble pages server-side (SSI/ESI includes)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask.typing import ResponseReturnValue

from views.api_tallies import cacheable, public_errors, requested_snapshot

bp = Blueprint("fragments", __name__, url_prefix="/fragments")


@bp.get("/tallies")
@public_errors
def tallies() -> ResponseReturnValue:
    """`/fragments/tallies?ids=a,b`: one tally element per id, Dutch text filled in."""
    snapshot = requested_snapshot()
    html = render_template("tallies/fragment.html", tallies=snapshot.tallies())
    response = Response(html, mimetype="text/html")
    # The HTML is a function of the JSON bytes: derive its own strong tag from them.
    return cacheable(response, snapshot.etag[:-1] + '-html"')
