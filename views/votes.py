"""Voting from the article page with a plain HTML form (works with JavaScript off)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, flash, has_request_context, redirect, request, url_for
from flask import session as session_typed
from flask.typing import ResponseReturnValue
from flask_login import current_user, user_logged_in
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from articles import services as articles
from db import get_session, read_first, start_write
from errors import DomainError
from forms.polls import VoteBadgeForm
from models import Article
from parsing import is_int_text
from polls import predictions, ratings
from polls import services as polls
from polls.badges import record_badge_choice, set_vote_badge
from polls.claims import claim_anonymous_ballots
from polls.queries import article_polls
from security import login_required_any
from views import poll_support as support

bp = Blueprint("votes", __name__)
log = logging.getLogger(__name__)

MESSAGES = {
    True: ("Bedankt, je stem is geteld.", "success"),
    False: ("Je had al gestemd in deze peiling; je stem blijft dezelfde.", "info"),
}
PREDICTION_MESSAGES = {
    True: ("Bedankt, je voorspelling is genoteerd.", "success"),
    False: ("Je had al voorspeld; je voorspelling blijft dezelfde.", "info"),
}
RATING_MESSAGES = {
    True: ("Bedankt, je cijfers zijn geteld.", "success"),
    False: ("Je had al cijfers gegeven in deze peiling; ze blijven dezelfde.", "info"),
}


def poll_panels(session: Session, article: Article) -> list[support.PollPanel]:
    """The article's polls as the visitor sees them (scheduled ones only for editors)."""
    moment = support.now()
    editor = support.is_editor()
    panels = []
    for poll in article_polls(session, article):
        if polls.poll_state(poll, moment) is polls.PollState.SCHEDULED and not editor:
            continue
        token = support.quiet_token(request.cookies.get(support.cookie_name(poll.id)), poll.id)
        voter = support.voter_for(token)
        ballot = polls.find_ballot(session, poll.id, voter.key) if voter else None
        panel = support.PollPanel(session, poll, moment, ballot)
        if poll.is_ratings:
            panel.typed = session_typed.pop(f"ratings-{poll.id}", None) or {}
        elif poll.is_prediction:
            panel.typed = session_typed.pop(f"prediction-{poll.id}", None) or {}
        panels.append(panel)
    return panels


@bp.post("/artikels/<article_id>/peilingen/<int:poll_id>")
@read_first
def vote(article_id: str, poll_id: int) -> ResponseReturnValue:
    """Cast a vote from the article page (CSRF token in the form; first-party cookie token)."""
    session = get_session()
    article = articles.article_for_page(session, article_id)
    moment = support.now()
    poll = polls.get_poll(session, poll_id, moment, editor=support.is_editor())
    if poll.article_id != article.id:
        raise DomainError("poll_not_found", "Deze peiling bestaat niet.", 404)
    back = url_for("pages.article", article_id=article.cms_id) + f"#peiling-{poll.id}"
    raw_ids = request.form.getlist("option")
    new_token = None
    try:
        if poll.is_prediction:
            outcome: Any = predictions.predict(
                session,
                poll.id,
                request.form.get("home_goals", ""),
                request.form.get("away_goals", ""),
                support.voter_for(None),
                moment,
                editor=support.is_editor(),
                ip_hash=support.current_ip_hash(),
            )
        elif poll.is_ratings:
            scores = ratings.form_scores(request.form.items(multi=True))
            voter, token, new_token = support.form_voter(poll)
            outcome = ratings.cast_ratings(
                session, poll.id, scores, voter, support.vote_context(token), moment
            )
        else:
            option_ids = [int(v) for v in raw_ids if is_int_text(v)]
            if len(option_ids) != len(raw_ids):
                raise DomainError("invalid_options", "Kies een geldig antwoord.", 422)
            voter, token, new_token = support.form_voter(poll)
            outcome = polls.cast_vote(
                session, poll.id, option_ids, voter, support.vote_context(token), moment
            )
            # A form comes with a new vote only (a stale form of a repeat voter changes nothing).
            ticked = support.badge_ticked() if outcome.created else None
            record_badge_choice(session, poll.id, voter.user_id, outcome.created, ticked)
    except DomainError as exc:
        session.rollback()
        if exc.status_code == 404:
            raise
        flash(exc.message, "error")
        if poll.is_prediction:
            session_typed[f"prediction-{poll.id}"] = {
                name: request.form.get(name, "")[:4] for name in ("home_goals", "away_goals")
            }
        if poll.is_ratings:
            # What was chosen comes back in the form (the redirect loses the post).
            session_typed[f"ratings-{poll.id}"] = {
                name[len(ratings.FORM_PREFIX) :]: value
                for name, value in request.form.items()
                if name.startswith(ratings.FORM_PREFIX)
            }
        return redirect(back), 303
    session.commit()
    if poll.is_prediction:
        message, category = PREDICTION_MESSAGES[outcome.created]
    else:
        message, category = (RATING_MESSAGES if poll.is_ratings else MESSAGES)[outcome.created]
    flash(message, category)
    response = redirect(back, 303)
    if new_token:
        response.set_cookie(
            support.cookie_name(poll.id),
            new_token,
            max_age=support.token_max_age(),
            path="/",
            secure=request.is_secure,
            httponly=True,
            samesite="Lax",
        )
    return response


@bp.post("/profiel/stembadge")
@login_required_any
def vote_badge_setting() -> ResponseReturnValue:
    """The account setting of the vote badge: on shows every ballot's choice, off none."""
    form = VoteBadgeForm()
    if not form.validate():
        raise form.invalid()
    session = get_session()
    set_vote_badge(session, current_user._get_current_object(), bool(form.show.data))
    session.commit()
    flash(
        "Je stem staat voortaan bij je reacties."
        if form.show.data
        else "Je stem staat niet meer bij je reacties.",
        "success",
    )
    return redirect(url_for("auth.profile", _anchor="stem-bij-reacties")), 303


def claim_on_sign_in(app: Flask, user: Any, **_: Any) -> None:
    """Every sign-in (login, registration, any login_user): this browser's anonymous ballots
    become the account's (polls.claims has the rule)."""
    if not has_request_context():
        return
    keys = support.browser_voter_keys()
    if not keys:
        return
    session = get_session()
    try:
        start_write(session)  # a write transaction, however the sign-in view left the session
        result = claim_anonymous_ballots(session, user.id, keys)
        session.commit()
    except SQLAlchemyError:
        # The sign-in goes on; the ballots stay anonymous (as before this rule), logged.
        session.rollback()
        log.exception("claiming anonymous ballots failed for user %s", user.id)
        return
    support.forget_dropped(result.dropped)


@bp.record_once
def _connect_claims(state: Any) -> None:
    user_logged_in.connect(claim_on_sign_in, state.app)
