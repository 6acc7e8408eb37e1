"""The embeddable poll widget: /embed/polls/<id>, framed by other sites.

The page is a real form that also works without JavaScript (a plain POST back to this route,
answered with the results page). Its CSRF protection does not use the session cookie, which is
absent when third-party cookies are blocked: a signed per-poll form token in the form, plus the
Origin / Sec-Fetch-Site check (the iframe posts to its own origin).
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    render_template,
    request,
)
from flask.typing import ResponseReturnValue

from db import get_session, read_first
from errors import DomainError
from extensions import csrf
from forms.polls import WidgetVoteForm
from models import Article, VoterScope
from parsing import is_int_text
from polls import predictions, ratings
from polls import services as polls
from polls.badges import record_badge_choice
from polls.results import refresh_counters
from polls.tokens import check_form_token, issue_form_token
from views import poll_support as support
from views.public_url import external_url
from wiring import refresh_hint

bp = Blueprint("embed", __name__, url_prefix="/embed")
# Form CSRF via the session cannot work in a cookie-less iframe; see the module docstring.
csrf.exempt(bp)

FORM_TOKEN_MAX_AGE = 12 * 3600
NOTICES = {
    (False, True): "Bedankt, je stem is geteld.",
    (False, False): "Je had al gestemd; je stem blijft dezelfde.",
    (True, True): "Bedankt, je cijfers zijn geteld.",
    (True, False): "Je had al cijfers gegeven; ze blijven dezelfde.",
}
PREDICTION_NOTICES = {
    True: "Bedankt, je voorspelling is genoteerd.",
    False: "Je had al voorspeld; je voorspelling blijft dezelfde.",
}


def typed_goals() -> dict[str, str]:
    """The goals a refused prediction form carried, to show them again."""
    return {name: request.form.get(name, "")[:4] for name in ("home_goals", "away_goals")}


def typed_scores() -> dict[str, str]:
    """The scores a refused ratings form carried ({player id: value}), to show them again."""
    return {
        name[len(ratings.FORM_PREFIX) :]: value
        for name, value in request.form.items()
        if name.startswith(ratings.FORM_PREFIX)
    }


def _render(poll_id: int, status: int = 200, **extra: Any) -> Response:
    session = get_session()
    moment = support.now()
    poll = polls.get_poll(session, poll_id, moment, editor=support.is_editor())
    ballot = extra.pop("ballot", None)
    option_ids = extra.pop("option_ids", None)
    if ballot is None:
        raw = extra.get("voter_token") or request.cookies.get(support.cookie_name(poll.id))
        voter = support.voter_for(support.quiet_token(raw, poll.id))
        ballot = polls.find_ballot(session, poll.id, voter.key) if voter else None
    article = session.get(Article, poll.article_id)
    parent = support.parent_origin_allowed(
        request.values.get("origin"), current_app.config["EMBED_ALLOWED_ORIGINS"]
    )
    panel = support.PollPanel(session, poll, moment, ballot, option_ids)
    html = render_template(
        "embed/poll.html",
        panel=panel,
        form_token=issue_form_token(current_app.config["SECRET_KEY"], poll.id),
        vote_form=WidgetVoteForm(formdata=None),
        parent_origin=parent or "",
        article_url=external_url("pages.article", article_id=article.cms_id) + f"#peiling-{poll.id}"
        if article
        else None,
        anonymous_allowed=poll.voter_scope is VoterScope.EVERYONE,
        refresh_seconds=refresh_hint(session, poll.article_id, moment).seconds,
        **extra,
    )
    response = make_response(html, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/polls/<int:poll_id>")
def poll(poll_id: int) -> ResponseReturnValue:
    """The widget page (framed by the host page through /static/embed.js)."""
    return _render(poll_id)


@bp.post("/polls/<int:poll_id>")
@read_first
def vote(poll_id: int) -> ResponseReturnValue:
    """The no-JavaScript vote: form post inside the iframe, answered with the results."""
    session = get_session()
    moment = support.now()
    form = WidgetVoteForm()
    voter_token = form.voter_token.data or None
    try:
        support.check_provenance()
        check_form_token(
            current_app.config["SECRET_KEY"],
            form.form_token.data or "",
            poll_id,
            FORM_TOKEN_MAX_AGE,
        )
        poll = polls.get_poll(session, poll_id, moment, editor=support.is_editor())
        if poll.is_prediction:
            member = support.voter_for(None)
            if member is None:
                raise DomainError("login_required", "Meld je aan om te voorspellen.", 401)
            voter, new_token = member, None
            outcome: Any = predictions.predict(
                session,
                poll.id,
                request.form.get("home_goals", ""),
                request.form.get("away_goals", ""),
                voter,
                moment,
                editor=support.is_editor(),
                ip_hash=support.current_ip_hash(),
            )
        elif poll.is_ratings:
            scores = ratings.form_scores(request.form.items(multi=True))
            voter, token, new_token = support.form_voter(poll, voter_token)
            outcome = ratings.cast_ratings(
                session, poll.id, scores, voter, support.vote_context(token), moment
            )
        else:
            raw_ids = form.option.data or []
            option_ids = [int(v) for v in raw_ids if is_int_text(v)]
            if len(option_ids) != len(raw_ids):
                raise DomainError("invalid_options", "Kies een geldig antwoord.", 422)
            voter, token, new_token = support.form_voter(poll, voter_token)
            outcome = polls.cast_vote(
                session, poll.id, option_ids, voter, support.vote_context(token), moment
            )
            # A form comes with a new vote only (a stale form of a repeat voter changes nothing).
            ticked = support.badge_ticked() if outcome.created else None
            record_badge_choice(session, poll.id, voter.user_id, outcome.created, ticked)
    except DomainError as exc:
        session.rollback()
        if exc.code == "poll_not_found":
            raise
        return _render(
            poll_id,
            exc.status_code,
            error=exc.message,
            voter_token=voter_token,
            typed_scores=typed_scores(),
            typed_goals=typed_goals(),
        )
    session.commit()
    # The vote was written on the driver (writes/): the poll this request loaded before it still
    # holds the old counters in the session, so read them again (the answer counts this vote).
    if poll.is_ratings or poll.is_prediction:
        session.expire_all()  # the counters written with Core statements
    else:
        refresh_counters(session, poll)
    response = _render(
        poll_id,
        201 if outcome.created else 200,
        ballot=polls.find_ballot(session, poll_id, voter.key),
        notice=PREDICTION_NOTICES[outcome.created]
        if poll.is_prediction
        else NOTICES[(poll.is_ratings, outcome.created)],
        voter_token=new_token or voter_token,
    )
    if new_token:
        # A partitioned cookie where the browser keeps one (CHIPS); it may simply be dropped.
        response.set_cookie(
            support.cookie_name(poll_id),
            new_token,
            max_age=support.token_max_age(),
            path="/",
            secure=True,
            httponly=False,
            samesite="None",
            partitioned=True,
        )
    return response
