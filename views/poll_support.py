"""Shared request helpers for the poll routes (API, embed, article page, editors).

Here the HTTP facts (logged-in user, voter token, client IP hash, rate limits, trusted origin)
become the plain values the poll services take.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request
from flask_login import current_user
from limits import parse_many
from sqlalchemy import select
from sqlalchemy.orm import Session

from errors import DomainError
from extensions import limiter
from models import (
    Article,
    Ballot,
    PlayerRating,
    Poll,
    PollKind,
    Role,
    ScorePrediction,
    VoterScope,
    utcnow,
)
from polls import services as polls
from polls.allowance import RedisIpAllowance
from polls.burst import BurstDetector, MemoryBurstStore, RedisBurstStore
from polls.claims import MAX_CLAIMS, DroppedBallot
from polls.predictions import own_prediction
from polls.ratings import RatingResults, RatingsPollSnapshot, rating_results
from polls.results import (
    SPLIT_MIN_BALLOTS,
    PollResults,
    ballot_stats,
    poll_results,
    results_visible,
    split_says_something,
)
from polls.tokens import VoterToken, issue_voter_token, read_voter_token
from security import current_ip_hash, same_origin
from views.public_url import external_url

VOTER_HEADER = "X-Tribune-Voter-Token"
# Longer is never a token we signed: refused before the signature check.
VOTER_TOKEN_MAX = 300
COOKIE_PREFIX = "tribune_voter_"
EDITOR_ROLES = (Role.EDITOR, Role.ADMIN)


def now() -> datetime:
    return utcnow()


def is_editor() -> bool:
    return bool(current_user.is_authenticated and current_user.role in EDITOR_ROLES)


def cookie_name(poll_id: int) -> str:
    return f"{COOKIE_PREFIX}{poll_id}"


def token_max_age() -> int:
    max_age: int = current_app.config["TRIBUNE_VOTER_TOKEN_MAX_AGE"]
    return max_age


def burst_detector() -> BurstDetector:
    """One detector per app, on Redis when configured."""
    detector = current_app.extensions.get("tribune.poll_burst")
    if detector is None:
        client = current_app.extensions.get("tribune.redis")
        prefix = current_app.config["TRIBUNE_REDIS_PREFIX"] + ":pollburst"
        store = RedisBurstStore(client, prefix) if client is not None else MemoryBurstStore()
        detector = BurstDetector(
            store,
            floor=current_app.config["TRIBUNE_POLL_BURST_FLOOR"],
            factor=current_app.config["TRIBUNE_POLL_BURST_FACTOR"],
        )
        current_app.extensions["tribune.poll_burst"] = detector
    return detector


def ip_allowance() -> RedisIpAllowance | None:
    """The per-IP allowance counted in Redis (one per app); None without Redis."""
    if "tribune.poll_allowance" not in current_app.extensions:
        client = current_app.extensions.get("tribune.redis")
        prefix = current_app.config["TRIBUNE_REDIS_PREFIX"] + ":pollip"
        current_app.extensions["tribune.poll_allowance"] = (
            RedisIpAllowance(client, prefix) if client is not None else None
        )
    allowance: RedisIpAllowance | None = current_app.extensions["tribune.poll_allowance"]
    return allowance


def _token_allowed(ip_hash: str) -> bool:
    """Flask-Limiter's storage (Redis when REDIS_URL is set) counts tokens per IP hash."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    items = parse_many(current_app.config["TRIBUNE_VOTER_TOKEN_LIMIT"])
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    strategy = limiter.limiter
    if not all(strategy.test(item, prefix, "voter-token", ip_hash) for item in items):
        return False
    return all([strategy.hit(item, prefix, "voter-token", ip_hash) for item in items])


def mint_voter_token(poll: Poll) -> str:
    """Issue an anonymous voter token for an open poll (rate-limited per IP hash)."""
    moment = now()
    state = polls.poll_state(poll, moment)
    if poll.voter_scope is VoterScope.LOGGED_IN:
        raise DomainError("login_required", "Meld je aan om te stemmen in deze peiling.", 401)
    if state is polls.PollState.CLOSED:
        raise DomainError("poll_closed", "Deze peiling is gesloten.", 409)
    if not _token_allowed(current_ip_hash()):
        raise DomainError(
            "too_many_tokens",
            "Er wordt vanaf dit netwerk erg veel gestemd. Probeer het straks opnieuw, "
            "of meld je aan om te stemmen.",
            429,
        )
    token = issue_voter_token(current_app.config["SECRET_KEY"], poll.id)
    burst_detector().record_issue(poll.id, moment)
    return token


def read_token(raw: str | None, poll_id: int) -> VoterToken | None:
    """A verified voter token, None when absent; 403 when forged, expired or foreign."""
    if not raw:
        return None
    if len(raw) > VOTER_TOKEN_MAX:
        raise DomainError("invalid_voter_token", "Je stemsleutel is ongeldig.", 403)
    return read_voter_token(current_app.config["SECRET_KEY"], raw, poll_id, token_max_age())


def quiet_token(raw: str | None, poll_id: int) -> VoterToken | None:
    """Like read_token, but a bad token just means "no token" (for reads)."""
    try:
        return read_token(raw, poll_id)
    except DomainError:
        return None


def browser_voter_keys() -> dict[int, str]:
    """The anonymous voter keys this request's voter cookies prove, per poll (bad ones skipped)."""
    keys: dict[int, str] = {}
    for name, raw in request.cookies.items():
        suffix = name[len(COOKIE_PREFIX) :] if name.startswith(COOKIE_PREFIX) else ""
        if not (suffix.isdigit() and len(suffix) <= 12):
            continue
        token = quiet_token(raw, int(suffix))
        if token is not None:
            keys[token.poll_id] = token.voter_key
        if len(keys) >= MAX_CLAIMS:
            break
    return keys


def forget_dropped(dropped: list[DroppedBallot]) -> None:
    """Take the Redis allowance marks of ballots a claim deleted (after the commit)."""
    allowance = ip_allowance()
    if allowance is None:
        return
    for ballot in dropped:
        if ballot.ip_hash:
            allowance.forget(
                ballot.poll_id, ballot.poll_created_at, ballot.ip_hash, ballot.voter_key
            )


def voter_for(token: VoterToken | None) -> polls.Voter | None:
    """The logged-in fan wins over a token (one key per person where we know the person)."""
    if current_user.is_authenticated:
        return polls.Voter(f"u:{current_user.id}", current_user.id)
    if token is not None:
        return polls.Voter(token.voter_key)
    return None


def vote_context(token: VoterToken | None) -> polls.VoteContext:
    burst = False
    if token is not None and not current_user.is_authenticated:
        burst = burst_detector().is_burst(token.poll_id, token.issued_at)
    return polls.VoteContext(
        ip_hash=current_ip_hash(),
        ip_allowance=current_app.config["TRIBUNE_POLL_IP_ALLOWANCE"],
        burst=burst,
        editor=is_editor(),
        allowance=ip_allowance(),
    )


# ---------------------------------------------------------------- provenance


def check_widget_write() -> None:
    """Write check for the vote and voter-token routes (the widget has no usable cookie).

    These routes do not need the session cookie: an anonymous vote is authorised by the signed
    per-poll voter token, which another site cannot read, so classic CSRF has nothing to ride
    on. A logged-in fan's vote does ride on the cookie, so every write must also prove it comes
    from our own pages (the embed iframe is served from our origin): a JSON body (cross-site
    forms cannot send one without a CORS preflight we never grant), and an Origin naming this
    site, or, when a privacy setting strips Origin, `Sec-Fetch-Site: same-origin`. A request
    with neither is refused, as is any Sec-Fetch-Site other than same-origin.
    """
    if request.mimetype != "application/json":
        raise DomainError(
            "unsupported_media_type", "Stuur JSON met Content-Type: application/json.", 415
        )
    check_provenance()


def check_provenance() -> None:
    """Origin (or Sec-Fetch-Site) must say the request comes from our own pages."""
    origin = request.headers.get("Origin")
    fetch_site = request.headers.get("Sec-Fetch-Site")
    ours = bool(origin and origin != "null" and same_origin(origin))
    if origin and not ours:
        ok = False
    elif fetch_site:
        ok = fetch_site == "same-origin"
    else:
        ok = ours
    if not ok:
        raise DomainError(
            "origin_mismatch", "Dit verzoek komt niet van deze site en werd geweigerd.", 403
        )


# ---------------------------------------------------------------- embedding origins

_ORIGIN_TOKEN = re.compile(r"^(\*|'self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)$")


def allowed_embed_origins(raw: object) -> list[str]:
    """EMBED_ALLOWED_ORIGINS as CSP source tokens (malformed entries dropped)."""
    parts = re.split(r"[\s,]+", str(raw or ""))
    return [p.rstrip("/") for p in parts if p and _ORIGIN_TOKEN.match(p.rstrip("/"))]


def frame_ancestors(raw: object) -> str:
    tokens = allowed_embed_origins(raw)
    return "frame-ancestors " + (" ".join(tokens) if tokens else "'none'")


def parent_origin_allowed(origin: str | None, raw: object) -> str | None:
    """The host page's origin if framing from it is allowed; else None (no postMessage)."""
    if not origin or len(origin) > 200:
        return None
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
        return None
    clean = f"{parts.scheme}://{parts.netloc}"
    for token in allowed_embed_origins(raw):
        if token == "*":
            return clean
        if token == "'self'" and same_origin(clean):
            return clean
        if token == clean:
            return clean
        if "://*." in token:
            scheme, _, suffix = token.partition("://*.")
            host = parts.netloc
            if parts.scheme == scheme and host.endswith("." + suffix):
                return clean
    return None


# ---------------------------------------------------------------- JSON


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def results_json(results: PollResults) -> dict[str, Any]:
    return {
        "total": results.total,
        "options": [
            {"id": o.option_id, "votes": o.votes, "percent": o.percent} for o in results.options
        ],
    }


def prediction_points() -> tuple[int, int]:
    """(exact score, right outcome) points of score predictions."""
    config = current_app.config
    return (
        int(config["TRIBUNE_PREDICTION_EXACT_POINTS"]),
        int(config["TRIBUNE_PREDICTION_OUTCOME_POINTS"]),
    )


def motm_min_ratings() -> int:
    return int(current_app.config["TRIBUNE_MOTM_MIN_RATINGS"])


def ratings_json(results: RatingResults) -> dict[str, Any]:
    return {
        "ballots": results.ballots,
        "players": [
            {
                "id": p.player_id,
                "count": p.count,
                "average": p.average,
                "distribution": list(p.distribution),
            }
            for p in results.players
        ],
        "man_of_the_match": results.motm_id,
        "motm_min_ratings": results.min_ratings,
    }


def own_ratings(session: Session, ballot_id: int) -> dict[int, int]:
    """A ballot's rating set: {player id: score}."""
    return {
        player_id: score
        for player_id, score in session.execute(
            select(PlayerRating.player_id, PlayerRating.score)
            .where(PlayerRating.ballot_id == ballot_id)
            .order_by(PlayerRating.player_id)
        )
    }


def ballot_json(ballot: Ballot | None, option_ids: list[int] | None = None) -> dict | None:
    if ballot is None:
        return None
    return {
        "id": ballot.id,
        "option_ids": option_ids
        if option_ids is not None
        else sorted(c.option_id for c in ballot.choices),
        "created_at": ballot.created_at.isoformat(),
    }


def match_json(poll: Poll) -> dict[str, Any]:
    result = None
    if poll.result_home_goals is not None and poll.result_away_goals is not None:
        result = {"home_goals": poll.result_home_goals, "away_goals": poll.result_away_goals}
    return {
        "home_team": poll.home_team,
        "away_team": poll.away_team,
        "competition": poll.competition,
        "kickoff": _iso(poll.closes_at),
        "result": result,
        "predictions": poll.ballot_count,
    }


def prediction_json(prediction: ScorePrediction | None) -> dict[str, Any] | None:
    if prediction is None:
        return None
    return {
        "home_goals": prediction.home_goals,
        "away_goals": prediction.away_goals,
        "points": prediction.points,
    }


def poll_json(
    session: Session,
    poll: Poll | polls.PollSnapshot | RatingsPollSnapshot,
    moment: datetime,
    ballot: Ballot | None,
    editor: bool = False,
    option_ids: list[int] | None = None,
    own: dict[str, Any] | None = None,
    members: bool = True,
) -> dict[str, Any]:
    """The public (or editor) view of a poll, with the caller's own ballot.

    `members=False` leaves out the logged-in-only stand (one query less on the vote path;
    GET /api/v1/polls/<id> has it).
    """
    if getattr(poll, "article_cms_id", None) is not None:
        cms_id: str | None = poll.article_cms_id  # type: ignore[union-attr]  # UPDATE … RETURNING
    else:
        article = session.get(Article, poll.article_id)
        cms_id = article.cms_id if article else None
    own_ballot = own if own is not None else ballot_json(ballot, option_ids)
    visible = results_visible(poll, moment, own_ballot is not None, editor)
    body: dict[str, Any] = {
        "id": poll.id,
        "article_id": cms_id,
        "article_page": external_url("pages.article", article_id=cms_id) + f"#peiling-{poll.id}"
        if cms_id
        else None,
        "question": poll.question,
        "kind": getattr(poll, "kind", PollKind.CHOICE).value,
        "state": polls.poll_state(poll, moment).value,
        "opens_at": _iso(poll.opens_at),
        "closes_at": _iso(poll.closes_at),
        "max_choices": poll.max_choices,
        "voter_scope": poll.voter_scope.value,
        "results_visibility": poll.results_visibility.value,
        "options": [{"id": o.id, "label": o.label} for o in poll.options],
        "results": None,
        "results_members": None,
        "results_split": False,
        "own_ballot": own_ballot,
        "players": [],
        "ratings": None,
        "ratings_members": None,
    }
    if isinstance(poll, Poll | RatingsPollSnapshot) and poll.is_ratings:
        body["players"] = [
            {"id": p.id, "name": p.name, "shirt_number": p.shirt_number, "role": p.role.value}
            for p in poll.players
        ]
        if own_ballot is not None and own_ballot.get("ratings") is None:
            own_ballot["ratings"] = [
                {"player_id": pid, "score": score}
                for pid, score in own_ratings(session, own_ballot["id"]).items()
            ]
        if visible:
            minimum = motm_min_ratings()
            body["ratings"] = ratings_json(rating_results(session, poll, minimum))
            if members:
                body["ratings_members"] = ratings_json(
                    rating_results(session, poll, minimum, members_only=True)
                )
    if isinstance(poll, Poll) and poll.is_prediction:
        body["match"] = match_json(poll)
        if own_ballot is not None and own_ballot.get("prediction") is None:
            own_ballot["prediction"] = prediction_json(own_prediction(session, own_ballot["id"]))
    if visible:
        everyone = poll_results(session, poll)
        body["results"] = results_json(everyone)
        if members:
            members_results = poll_results(session, poll, members_only=True)
            body["results_members"] = results_json(members_results)
            body["results_split"] = split_says_something(everyone, members_results)
    if editor:
        stats = ballot_stats(session, poll)
        body["stats"] = {
            "ballots": stats.total,
            "counted": stats.counted,
            "members": stats.members,
            "anonymous": stats.anonymous,
            "suspicious": stats.suspicious,
            "quarantined": stats.quarantined,
        }
    return body


# ---------------------------------------------------------------- HTML panels


class PollPanel:
    """What the poll block (article page or embed) needs to render one poll."""

    def __init__(
        self,
        session: Session,
        poll: Poll,
        moment: datetime,
        ballot: Ballot | None,
        option_ids: list[int] | None = None,
    ) -> None:
        self.poll = poll
        self.state = polls.poll_state(poll, moment).value
        self.ballot = ballot
        self.own_option_ids = set(
            option_ids
            if option_ids is not None
            else ([c.option_id for c in ballot.choices] if ballot else [])
        )
        self.voted = ballot is not None
        self.members_only = poll.voter_scope is VoterScope.LOGGED_IN
        self.login_needed = self.members_only and not current_user.is_authenticated
        self.can_vote = self.state == "open" and not self.voted and not self.login_needed
        self.editor = is_editor()
        # The public block follows the poll's rule for everyone, editors included: a fan who may
        # still vote sees the form first (editors read the stand on /redactie/).
        visible = results_visible(poll, moment, self.voted)
        self.results = poll_results(session, poll) if visible else None
        self.results_members = poll_results(session, poll, members_only=True) if visible else None
        # One stand, unless the logged-in fans' stand says something of its own.
        self.split = bool(
            self.results
            and self.results_members
            and split_says_something(self.results, self.results_members)
        )
        self.multiple = poll.max_choices > 1
        # A player_ratings poll: the visitor's scores and the stand per player.
        self.ratings = self.ratings_members = None
        self.own_scores: dict[int, int] = own_ratings(session, ballot.id) if (
            poll.is_ratings and ballot is not None
        ) else {}
        if poll.is_ratings and visible:
            minimum = motm_min_ratings()
            self.ratings = rating_results(session, poll, minimum)
            self.ratings_members = rating_results(session, poll, minimum, members_only=True)
        self.ratings_split = bool(
            self.ratings
            and self.ratings_members
            and self.ratings_members.ballots >= SPLIT_MIN_BALLOTS
            and self.ratings.ballots - self.ratings_members.ballots >= SPLIT_MIN_BALLOTS
        )
        # A score_prediction poll: the member's prediction (with its points once scored).
        self.prediction = (
            own_prediction(session, ballot.id) if poll.is_prediction and ballot else None
        )
        self.goals = range(0, 21)
        self.scores = range(1, 11)
        # The scores of a refused ratings form, shown again ({player id: value as typed}).
        self.typed: dict[str, str] = {}

    @property
    def results_note(self) -> str:
        """Why the stand is not shown (Dutch)."""
        rule = self.poll.results_visibility.value
        if rule == "after_vote":
            return "De stand verschijnt nadat je gestemd hebt."
        if rule == "after_close":
            return "De stand verschijnt wanneer de peiling sluit."
        return "De redactie maakt de stand van deze peiling niet publiek."


# The vote form's checkbox "Toon mijn stem bij mijn reacties" (members only: embed/_poll.html).
BADGE_FIELD = "show_badge"


def badge_ticked() -> bool:
    """Whether the vote form's badge checkbox was ticked (absent: not ticked)."""
    return request.form.get(BADGE_FIELD) in ("1", "y", "on")


def form_voter(
    poll: Poll, explicit_token: str | None = None
) -> tuple[polls.Voter, VoterToken | None, str | None]:
    """Who votes from a plain form: the logged-in fan, else the anonymous voter token (the one
    the form sent, checked strictly, or the first-party cookie's), else a new token where the
    poll lets everyone vote. Returns the voter, its token and the new token to hand out."""
    token = new_token = None
    if not current_user.is_authenticated:
        if explicit_token:
            token = read_token(explicit_token, poll.id)
        else:
            token = quiet_token(request.cookies.get(cookie_name(poll.id)), poll.id)
        if token is None and poll.voter_scope is VoterScope.EVERYONE:
            new_token = mint_voter_token(poll)
            token = read_token(new_token, poll.id)
    voter = voter_for(token)
    if voter is None:
        raise DomainError("login_required", "Meld je aan om te stemmen in deze peiling.", 401)
    return voter, token, new_token
