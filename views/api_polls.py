"""Poll routes of the JSON API (registered on the api blueprint).

Write protection: the editor routes use the Bearer token or the session (JSON + Origin, as all of
the API). The vote and voter-token routes have their own check (views.poll_support.
check_widget_write), registered in views.api.WRITE_CHECKS: see its docstring for why.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from flask import jsonify, make_response, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import Session

from articles import services as articles
from db import get_session, read_first
from errors import Conflict, DomainError, Invalid
from live import pacing as live
from models import Role, TokenScope, VoterScope
from polls import predictions, ratings
from polls import services as polls
from polls.badges import badge_shown, record_badge_choice
from security import role_required
from views import api_schemas as schemas
from views import poll_support as support
from views.api import WRITE_CHECKS, bp, json_object, parse_body
from views.openapi import operation
from wiring import refresh_hint

NO_STORE = {"Cache-Control": "private, no-store"}


def _need_zone(**values: datetime | None) -> None:
    naive = {k: "needs a time zone offset" for k, v in values.items() if v and v.tzinfo is None}
    if naive:
        raise Invalid(
            "validation_failed", "Niet alle velden zijn geldig.", details={"fields": naive}
        )


@bp.post("/articles/<article_id>/polls")
@operation(
    auth="editor",
    scope=TokenScope.POLLS_WRITE,
    body=schemas.PollIn,
    responses={201: schemas.PollOut},
    errors={
        404: "article_not_found",
        422: "invalid_article_id, validation_failed (details.fields); player_ratings: "
        "lineup_empty, too_many_players, empty_player_name, player_name_too_long, "
        "invalid_shirt_number, duplicate_shirt_number (details.fields and details.codes); "
        "score_prediction: validation_failed with details.fields home_team, away_team, "
        "competition, closes_at (kick-off, required).",
    },
)
@role_required(Role.EDITOR, Role.ADMIN)
def create_poll(article_id: str) -> ResponseReturnValue:
    """Create a poll on an article (editor token or editor session): a choice poll, with
    `"kind": "player_ratings"` a line-up fans rate 1–10 per player, or with `"kind":
    "score_prediction"` a match (home_team, away_team, competition; kick-off = closes_at)
    whose final score members predict."""
    articles.validate_article_id(article_id)
    payload = parse_body(schemas.PollIn)
    _need_zone(opens_at=payload.opens_at, closes_at=payload.closes_at)
    session = get_session()
    article = articles.get_article(session, article_id)
    moment = support.now()
    poll = polls.create_poll(
        session,
        article,
        polls.PollDraft(
            question=payload.question,
            kind=payload.kind,
            players=[p.model_dump() for p in payload.players]
            if payload.players is not None
            else None,
            coach=payload.coach,
            home_team=payload.home_team,
            away_team=payload.away_team,
            competition=payload.competition,
            options=payload.options,
            max_choices=payload.max_choices,
            opens_at=payload.opens_at,
            closes_at=payload.closes_at,
            results_visibility=payload.results_visibility,
            voter_scope=payload.voter_scope,
        ),
        current_user,
        moment,
    )
    session.commit()
    body = support.poll_json(session, poll, moment, None, editor=True)
    return jsonify(body), 201, {"Location": f"/api/v1/polls/{poll.id}", **NO_STORE}


@bp.patch("/polls/<int:poll_id>")
@operation(
    auth="editor",
    scope=TokenScope.POLLS_WRITE,
    body=schemas.PollPatch,
    responses={200: schemas.PollOut},
    errors={
        404: "poll_not_found",
        409: "poll_frozen (details.fields), poll_not_open or poll_not_closed.",
    },
)
@role_required(Role.EDITOR, Role.ADMIN)
def update_poll(poll_id: int) -> ResponseReturnValue:
    """Edit a poll; after the first ballot only closes_at and results_visibility (409)."""
    payload = parse_body(schemas.PollPatch)
    _need_zone(opens_at=payload.opens_at, closes_at=payload.closes_at)
    session = get_session()
    moment = support.now()
    poll = polls.get_poll(session, poll_id, moment, editor=True)
    sent = payload.model_fields_set
    if "state" in sent and payload.state is not None:
        if payload.state == "closed":
            polls.close_poll(session, poll.id, current_user, moment)
        else:
            polls.reopen_poll(
                session,
                poll.id,
                current_user,
                moment,
                payload.closes_at if "closes_at" in sent else None,
            )
        sent = sent - {"state", "closes_at"}
        poll = polls.get_poll(session, poll_id, moment, editor=True)
    if sent:
        draft = polls.PollDraft(
            question=payload.question if payload.question is not None else poll.question,
            options=(
                payload.options if payload.options is not None else [o.label for o in poll.options]
            ),
            max_choices=(
                payload.max_choices if payload.max_choices is not None else poll.max_choices
            ),
            opens_at=payload.opens_at if "opens_at" in sent else poll.opens_at,
            closes_at=payload.closes_at if "closes_at" in sent else poll.closes_at,
            results_visibility=payload.results_visibility or poll.results_visibility,
            voter_scope=payload.voter_scope or poll.voter_scope,
        )
        poll = polls.update_poll(session, poll.id, draft, current_user, moment)
    session.commit()
    return jsonify(support.poll_json(session, poll, moment, None, editor=True)), 200, NO_STORE


@bp.delete("/polls/<int:poll_id>")
@operation(
    auth="editor",
    scope=TokenScope.POLLS_WRITE,
    responses={204: "Deleted."},
    errors={404: "poll_not_found", 409: "poll_has_ballots"},
)
@role_required(Role.EDITOR, Role.ADMIN)
def delete_poll(poll_id: int) -> ResponseReturnValue:
    """Delete a poll without ballots (409 poll_has_ballots otherwise)."""
    session = get_session()
    polls.delete_poll(session, poll_id, current_user, support.now())
    session.commit()
    return "", 204


@bp.get("/polls/<int:poll_id>")
@operation(
    headers=schemas.PollReadHeaders,
    responses={200: schemas.PollOut, 304: "Not modified: the ETag matched."},
    errors={404: "poll_not_found: unknown, or scheduled (except for editors)."},
)
def get_poll(poll_id: int) -> ResponseReturnValue:
    """Question, options, state, results when visible and the caller's own ballot.

    Cache-Control: private, no-store, with an ETag (304 on the widget's If-None-Match) and
    `Tribune-Refresh`: the seconds after which the poll widget checks again. A scheduled poll
    is 404 except for editors.
    """
    session = get_session()
    moment = support.now()
    editor = support.is_editor()
    poll = polls.get_poll(session, poll_id, moment, editor=editor)
    token = support.quiet_token(request.headers.get(support.VOTER_HEADER), poll.id)
    voter = support.voter_for(token)
    ballot = polls.find_ballot(session, poll.id, voter.key) if voter else None
    body = support.poll_json(session, poll, moment, ballot, editor=editor)
    response = jsonify(body)
    # The widget's live check sends its own If-None-Match (never stored: it holds the ballot).
    etag = 'W/"' + hashlib.blake2b(response.get_data(), digest_size=12).hexdigest() + '"'
    if live.etag_matches(etag, request.headers.get("If-None-Match", "")):
        response = make_response("", 304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = NO_STORE["Cache-Control"]
    refresh_hint(session, poll.article_id, moment).apply(response.headers)
    return response


@bp.post("/polls/<int:poll_id>/voter-token")
@operation(
    scope=TokenScope.POLLS_WRITE,
    responses={201: schemas.VoterToken},
    errors={
        401: "login_required: the poll is for logged-in fans.",
        403: "Sec-Fetch-Site other than same-origin.",
        404: "poll_not_found",
        409: "poll_closed",
        429: "too_many_tokens: many votes from this network.",
    },
)
def issue_voter_token(poll_id: int) -> ResponseReturnValue:
    """A signed anonymous voter token for this poll (rate-limited per IP hash).

    From a page (no API token): send `{}` as application/json with this site's Origin (or
    Sec-Fetch-Site: same-origin).
    """
    session = get_session()
    poll = polls.get_poll(session, poll_id, support.now())
    token = support.mint_voter_token(poll)
    session.rollback()
    return (
        jsonify(voter_token=token, poll_id=poll.id, max_age=support.token_max_age()),
        201,
        NO_STORE,
    )


def _ballot_voter(
    session: Session, poll_id: int, payload: dict[str, Any], moment: datetime
) -> tuple[polls.Voter, polls.VoteContext]:
    """Who casts a ballot (a vote or a rating set): the signed-in member, or the anonymous
    voter of the token (header X-Tribune-Voter-Token or voter_token in the body), with the
    ballot's context. Without one: 404 for a scheduled poll, 409 for a closed one, then 401
    (login or token required).

    @read_first: the session starts read-only (the token checks need no transaction); the
    service takes the write transaction itself (BEGIN IMMEDIATE on SQLite).
    """
    raw_token = request.headers.get(support.VOTER_HEADER) or payload.get("voter_token")
    if raw_token is not None and not isinstance(raw_token, str):
        raise Invalid("invalid_voter_token", "voter_token is een tekst.")
    token = None if current_user.is_authenticated else support.read_token(raw_token, poll_id)
    voter = support.voter_for(token)
    context = support.vote_context(token) if voter else None
    if voter is not None and context is not None:
        return voter, context
    poll = polls.get_poll(session, poll_id, moment, editor=support.is_editor())
    if polls.poll_state(poll, moment) is polls.PollState.CLOSED:
        raise Conflict("poll_closed", "Deze peiling is gesloten.")
    if poll.voter_scope is VoterScope.LOGGED_IN:
        raise DomainError("login_required", "Meld je aan om te stemmen in deze peiling.", 401)
    raise DomainError(
        "voter_token_required",
        "Vraag eerst een stemsleutel aan (POST /api/v1/polls/<id>/voter-token) of meld je aan.",
        401,
    )


@bp.post("/polls/<int:poll_id>/votes")
@operation(
    scope=TokenScope.POLLS_WRITE,
    body=schemas.VoteIn,
    headers=schemas.VoterHeaders,
    responses={201: schemas.VoteOut, 200: schemas.VoteOut},
    errors={
        401: "login_required (a poll for logged-in fans) or voter_token_required.",
        403: "invalid_voter_token, voter_token_expired or foreign_voter_token.",
        404: "poll_not_found",
        409: "poll_not_open (scheduled, editors), poll_closed or vote_conflict.",
        422: "invalid_options, too_many_choices, invalid_voter_token or invalid_parameter "
        "(show_badge).",
    },
)
@read_first
def cast_vote(poll_id: int) -> ResponseReturnValue:
    """Vote: 201 counted, 200 already voted (the same ballot back).

    Logged-in fans vote with their session (JSON and this site's Origin), anonymous fans with
    the voter token (X-Tribune-Voter-Token or voter_token in the body).
    """
    payload = json_object()
    moment = support.now()
    session = get_session()
    voter, context = _ballot_voter(session, poll_id, payload, moment)
    show = payload.get("show_badge")
    if show is not None and not isinstance(show, bool):
        raise Invalid("invalid_parameter", "show_badge is true, false of null.")
    outcome = polls.cast_vote(session, poll_id, payload.get("option_ids"), voter, context, moment)
    if show is None and outcome.created and voter.is_member:
        show = bool(current_user.show_vote_badge)  # the account setting prefills the choice
    shown = record_badge_choice(session, poll_id, voter.user_id, outcome.created, show)
    if shown is None:
        shown = badge_shown(session, outcome.ballot_id)
    session.commit()
    snapshot = outcome.poll
    assert snapshot is not None
    ballot = {
        "id": outcome.ballot_id,
        "option_ids": outcome.option_ids,
        "created_at": outcome.created_at.isoformat(),
        "show_badge": shown,
    }
    # Answered from what the vote read and wrote (its counters include this ballot): no
    # read-back after the commit.
    body = {
        "counted": outcome.created,
        "ballot": ballot,
        "poll": support.poll_json(
            session, snapshot, moment, None, context.editor, own=ballot, members=False
        ),
    }
    return jsonify(body), 201 if outcome.created else 200, NO_STORE


@bp.post("/polls/<int:poll_id>/ratings")
@operation(
    scope=TokenScope.POLLS_WRITE,
    body=schemas.RatingsIn,
    headers=schemas.VoterHeaders,
    responses={201: schemas.RatingsOut, 200: schemas.RatingsOut},
    errors={
        401: "login_required (a poll for logged-in fans) or voter_token_required.",
        403: "invalid_voter_token, voter_token_expired or foreign_voter_token.",
        404: "poll_not_found",
        409: "not_a_ratings_poll, poll_not_open (scheduled, editors), poll_closed or "
        "vote_conflict.",
        422: "invalid_ratings or invalid_voter_token.",
    },
)
@read_first
def cast_ratings(poll_id: int) -> ResponseReturnValue:
    """Rate a line-up (a player_ratings poll): 201 counted, 200 already rated (the same set
    back). One rating set per voter, under the votes' rules (voter token or session, per-IP
    allowance, burst marks, quarantine)."""
    payload = json_object()
    moment = support.now()
    session = get_session()
    voter, context = _ballot_voter(session, poll_id, payload, moment)
    outcome = ratings.cast_ratings(
        session, poll_id, payload.get("ratings"), voter, context, moment
    )
    session.commit()
    # A new set is answered from what it read and wrote (no read after the commit); a repeat
    # voter's answer reads the poll.
    answered: Any = outcome.poll or polls.get_poll(session, poll_id, moment, editor=True)
    ballot = {
        "id": outcome.ballot_id,
        "option_ids": [],
        "created_at": outcome.created_at.isoformat(),
        "ratings": [{"player_id": p, "score": s} for p, s in outcome.ratings.items()],
    }
    body = {
        "counted": outcome.created,
        "ballot": ballot,
        "poll": support.poll_json(
            session, answered, moment, None, context.editor, own=ballot, members=False
        ),
    }
    return jsonify(body), 201 if outcome.created else 200, NO_STORE


@bp.post("/polls/<int:poll_id>/predictions")
@operation(
    scope=TokenScope.POLLS_WRITE,
    body=schemas.PredictionIn,
    responses={201: schemas.PredictionOut, 200: schemas.PredictionOut},
    errors={
        401: "login_required: only members predict (the leaderboard is one of members).",
        404: "poll_not_found",
        409: "not_a_prediction_poll, poll_not_open (scheduled, editors), poll_closed (after "
        "kick-off) or vote_conflict.",
        422: "invalid_prediction (goals 0–20 each).",
    },
)
@read_first
def cast_prediction(poll_id: int) -> ResponseReturnValue:
    """Predict a match's final score (a score_prediction poll, members, before kick-off): 201
    counted, 200 predicted before (the same prediction back; it does not change)."""
    payload = json_object()
    moment = support.now()
    voter = support.voter_for(None)
    session = get_session()
    outcome = predictions.predict(
        session,
        poll_id,
        payload.get("home_goals"),
        payload.get("away_goals"),
        voter,
        moment,
        editor=support.is_editor(),
        ip_hash=support.current_ip_hash(),
    )
    session.commit()
    poll = polls.get_poll(session, poll_id, moment, editor=True)
    ballot = {
        "id": outcome.ballot_id,
        "option_ids": [],
        "created_at": outcome.created_at.isoformat(),
        "prediction": {
            "home_goals": outcome.home_goals,
            "away_goals": outcome.away_goals,
            "points": outcome.points,
        },
    }
    body = {
        "counted": outcome.created,
        "ballot": ballot,
        "poll": support.poll_json(
            session, poll, moment, None, support.is_editor(), own=ballot, members=False
        ),
    }
    return jsonify(body), 201 if outcome.created else 200, NO_STORE


@bp.post("/polls/<int:poll_id>/result")
@operation(
    auth="editor",
    scope=TokenScope.POLLS_WRITE,
    body=schemas.PredictionIn,
    responses={200: schemas.ResultOut},
    errors={
        404: "poll_not_found",
        409: "not_a_prediction_poll or match_not_started (before kick-off).",
        422: "invalid_result (goals 0–20 each).",
    },
)
@role_required(Role.EDITOR, Role.ADMIN)
def enter_result(poll_id: int) -> ResponseReturnValue:
    """Enter (or correct) a match's final score after kick-off: every prediction of the poll
    is scored in the same transaction (TRIBUNE_PREDICTION_EXACT_POINTS for the exact score,
    TRIBUNE_PREDICTION_OUTCOME_POINTS for the right outcome, else 0). Audited."""
    payload = json_object()
    moment = support.now()
    session = get_session()
    exact, right = support.prediction_points()
    resolution = predictions.resolve(
        session,
        poll_id,
        payload.get("home_goals"),
        payload.get("away_goals"),
        current_user,
        moment,
        exact,
        right,
    )
    session.commit()
    poll = polls.get_poll(session, poll_id, moment, editor=True)
    body = {
        "poll": support.poll_json(session, poll, moment, None, editor=True),
        "scored": resolution.scored,
        "corrected": resolution.corrected,
    }
    return jsonify(body), 200, NO_STORE


def leaderboard_json(board: predictions.Leaderboard, user_id: int | None) -> dict[str, Any]:
    def row(s: predictions.Standing) -> dict[str, Any]:
        return {
            "rank": s.rank,
            "user": s.name,
            "points": s.points,
            "predictions": s.predictions,
            "exact": s.exact,
        }

    own = board.of(user_id)
    return {
        "competition": board.competition,
        "standings": [row(s) for s in board.top()],
        "members": len(board.standings),
        "own": row(own) if own else None,
    }


@bp.get("/leaderboards/<competition>")
@operation(responses={200: schemas.LeaderboardOut})
def get_leaderboard(competition: str) -> ResponseReturnValue:
    """A competition's score prediction leaderboard: the top 50 members by points (then exact
    scores, then fewer predictions), and the signed-in member's own row. An unknown competition
    has no standings."""
    session = get_session()
    if predictions.is_competition_name(competition):
        board = predictions.leaderboard(session, competition)
    else:  # no poll can have it (too long, control characters): nothing to look up
        board = predictions.Leaderboard(competition, [])
    user_id = current_user.id if current_user.is_authenticated else None
    return jsonify(leaderboard_json(board, user_id)), 200, NO_STORE


WRITE_CHECKS["api.cast_prediction"] = support.check_widget_write
WRITE_CHECKS["api.cast_ratings"] = support.check_widget_write
WRITE_CHECKS["api.cast_vote"] = support.check_widget_write
WRITE_CHECKS["api.issue_voter_token"] = support.check_widget_write
