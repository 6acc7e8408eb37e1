"""Score prediction pages: the leaderboard per competition (/klassement), a member's own
predictions (/profiel/voorspellingen) and the leaderboard embed (/embed/klassement/<competition>, no
JavaScript, framed by the publisher's pages like the poll widget)."""

from __future__ import annotations

from flask import Blueprint, make_response, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from db import get_session
from polls import predictions
from security import login_required_any

bp = Blueprint("predictions", __name__)

PRIVATE = {"Cache-Control": "private, no-store"}


def _board(competition: str) -> predictions.Leaderboard:
    if not predictions.is_competition_name(competition):
        return predictions.Leaderboard(competition, [])
    return predictions.leaderboard(get_session(), competition)


def _own_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None


@bp.get("/klassement")
def standings() -> ResponseReturnValue:
    """A competition's leaderboard (chosen with ?competitie=; the first one by name when
    left out): the top 50 and the signed-in member's own rank."""
    session = get_session()
    known = predictions.competitions(session)
    wanted = (request.args.get("competitie") or "").strip()
    competition = wanted if wanted else (known[0] if known else "")
    board = _board(competition) if competition else predictions.Leaderboard("", [])
    html = render_template(
        "predictions/standings.html",
        competitions=known,
        competition=competition,
        board=board,
        top=board.top(),
        own=board.of(_own_id()),
    )
    return html, 200, PRIVATE


@bp.get("/profiel/voorspellingen")
@login_required_any
def own_history() -> ResponseReturnValue:
    """The signed-in member's predictions, latest kick-off first, with their points."""
    items = predictions.history(get_session(), current_user.id)
    return render_template("predictions/history.html", items=items), 200, PRIVATE


@bp.get("/embed/klassement/<competition>")
def embed_standings(competition: str) -> ResponseReturnValue:
    """The leaderboard as an embed: the top 50 in a table that fits a phone, no JavaScript."""
    board = _board(competition)
    html = render_template(
        "predictions/embed.html", board=board, top=board.top(), own=board.of(_own_id())
    )
    response = make_response(html, 200)
    response.headers["Cache-Control"] = "private, no-store"
    return response
