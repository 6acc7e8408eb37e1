"""The pydantic models of /api/v1: request bodies, query strings, headers and response bodies.

Request models of the editor routes validate (parse_body); the comment and vote routes keep
their own checks in the services (the hot paths build their answers as plain dicts), so their
models describe them, with the same constants and enums. views/openapi.py builds the OpenAPI
document from these models, and the schemathesis tests hold the answers to them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    RootModel,
    UrlConstraints,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from accounts.sso import TOKEN_MAX as SSO_TOKEN_MAX
from comments.services import BODY_MAX, BODY_MIN, REPORT_NOTE_MAX
from models import (
    ARTICLE_ID_PATTERN,
    AppealState,
    Article,
    CommentMode,
    CommentState,
    ReasonCode,
    ReportOutcome,
    ResultsVisibility,
    VoterScope,
)
from models.poll import PlayerRole, PollKind, PollOption
from moderation.actions import APPEAL_MAX, APPEAL_MIN
from parsing import ID_MAX
from polls.predictions import COMPETITION_MAX, GOALS_MAX, GOALS_MIN, LEADERBOARD_TOP
from polls.ratings import MAX_PLAYERS, SCORE_MAX, SCORE_MIN
from polls.services import MAX_OPTIONS, MIN_OPTIONS, QUESTION_MAX, PollState
from tallies.ids import MAX_IDS
from views.poll_support import VOTER_HEADER, VOTER_TOKEN_MAX


def _column_length(column: Any) -> int:
    """The length of a String column: what the database stores at most."""
    length = column.type.length
    assert isinstance(length, int), column
    return length


# The API's own limits (the columns bound the rest).
TITLE_MAX = _column_length(Article.__table__.c.title)
URL_MAX = _column_length(Article.__table__.c.url)
LABEL_MAX = _column_length(PollOption.__table__.c.label)
TEASER_MAX = 2000
ARTICLE_BODY_MAX = 100_000
PAGE_MAX = 100_000
PER_PAGE_MAX = 100
PER_PAGE_DEFAULT = 20
MY_COMMENTS_MAX = 200
MY_COMMENTS_DEFAULT = 50

# A PATCH moves a poll to one of these states; "scheduled" follows from opens_at.
# The enum's own values (not retyped); mypy cannot read a Literal built from them.
PollTarget = Literal[PollState.OPEN.value, PollState.CLOSED.value]  # type: ignore[name-defined]


class Input(BaseModel):
    """A request body: unknown fields are refused, text is trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ---------------------------------------------------------------- errors


class ErrorBody(BaseModel):
    code: str = Field(description="Stable snake_case code, e.g. validation_failed.")
    message: str = Field(description="Dutch, for people.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Per code: fields, limits, retry_after, …"
    )


class Error(BaseModel):
    """Every refusal of the API: {"error": {"code", "message", "details"?}}."""

    error: ErrorBody


class RejectionDetails(BaseModel):
    comment_id: int
    reasons: list[ReasonCode]
    decision_reason: ReasonCode | None = Field(
        default=None, description="The reason the author sees with the rejection."
    )


class RejectionBody(BaseModel):
    code: Literal["comment_rejected"]
    message: str
    details: RejectionDetails


class CommentRejected(BaseModel):
    """The comment was stored as rejected: its id and the reasons, for an appeal."""

    error: RejectionBody


# ---------------------------------------------------------------- parameters


class PathParameters(BaseModel):
    """Every path parameter of /api/v1, by name (the generator picks those a route has)."""

    article_id: str = Field(pattern=ARTICLE_ID_PATTERN, description="The CMS's own article id.")
    poll_id: int = Field(ge=0)
    comment_id: int = Field(ge=0)
    competition: str = Field(
        min_length=1,
        max_length=COMPETITION_MAX,
        pattern=r"^[^/\x00-\x1f]+$",
        description="A score prediction competition, e.g. \"Jupiler Pro League 2026-27\".",
    )


class ThreadQuery(BaseModel):
    sort: Literal["newest", "oldest", "best", "beste"] | None = Field(
        default=None,
        description="newest, oldest or best (also spelled beste): \"Sterk\" reactions with a "
        "time decay, (reactions + 1) / (age in hours + 2)^1.8 (docs/design.md). Without it, "
        "the article's default sort.",
    )
    page: int = Field(default=1, ge=1, le=PAGE_MAX)
    per_page: int = Field(default=PER_PAGE_DEFAULT, ge=1, le=PER_PAGE_MAX)
    filter: Literal["uitgelicht"] | None = Field(
        default=None, description="uitgelicht: only the editors' picks, flat (replies too)."
    )
    stemde: int | None = Field(
        default=None,
        ge=1,
        description="An option id of one of the article's polls: only comments whose author's "
        "vote badge shows it, flat.",
    )


class MyCommentsQuery(BaseModel):
    limit: int = Field(default=MY_COMMENTS_DEFAULT, ge=1, le=MY_COMMENTS_MAX)


class TalliesQuery(BaseModel):
    ids: str = Field(
        description=f"Comma-separated article ids, at most {MAX_IDS} distinct.",
        examples=["a,b,c"],
    )


class TalliesHeaders(BaseModel):
    if_none_match: str | None = Field(default=None, alias="If-None-Match")


class VoterHeaders(BaseModel):
    # The header's one spelling, from poll_support (mypy wants a literal alias).
    voter_token: str | None = Field(  # type: ignore[literal-required]
        default=None,
        alias=VOTER_HEADER,
        max_length=VOTER_TOKEN_MAX,
        description="Signed anonymous voter token for this poll (POST …/voter-token).",
    )


class PollReadHeaders(VoterHeaders):
    if_none_match: str | None = Field(
        default=None,
        alias="If-None-Match",
        max_length=400,
        description="The ETag of the last answer: 304 when the poll is as it was.",
    )


# ---------------------------------------------------------------- articles


def _fits_the_column(url: HttpUrl) -> HttpUrl:
    # Normalising can lengthen a URL (a trailing slash): check what will be stored.
    if len(str(url)) > URL_MAX:
        raise ValueError(f"URL should have at most {URL_MAX} characters")
    return url


ArticleUrl = Annotated[
    HttpUrl, UrlConstraints(max_length=URL_MAX), AfterValidator(_fits_the_column)
]


class ArticleIn(Input):
    """An article as the CMS sends it: a PUT replaces it (null and left out are the same)."""

    title: str = Field(min_length=1, max_length=TITLE_MAX)
    url: ArticleUrl | None = Field(default=None, description="null: no link.")
    teaser: str | None = Field(default=None, max_length=TEASER_MAX, description="null: none.")
    body: str | None = Field(
        default=None, max_length=ARTICLE_BODY_MAX, description="null: the stored body stays."
    )
    published_at: datetime | None = Field(
        default=None,
        description="With a time zone offset, e.g. 2026-05-01T18:00:00Z; null: not published.",
    )
    comment_mode: CommentMode | None = Field(
        default=None, description="null: unchanged (open for a new article)."
    )


class ArticleOut(BaseModel):
    id: str
    title: str
    url: str | None
    teaser: str | None
    published_at: datetime | None
    comment_mode: CommentMode
    comments: int = Field(ge=0, description="Published comments, replies included.")
    votes: int = Field(ge=0, description="Counted ballots over the article's polls.")


class TallyCounts(BaseModel):
    comments: int = Field(ge=0)
    votes: int = Field(ge=0)


class Tallies(RootModel[dict[str, TallyCounts]]):
    """Tallies by article id; unknown ids give zeros."""


# ---------------------------------------------------------------- polls

OptionLabel = Annotated[str, Field(min_length=1, max_length=LABEL_MAX)]


class PlayerIn(Input):
    name: str = Field(max_length=200, description="1–80 characters (422 empty_player_name).")
    shirt_number: int = Field(description="1–99, once per line-up (422 invalid_shirt_number, "
                              "duplicate_shirt_number).")
    role: Literal["starter", "substitute"] = "starter"


class PollIn(Input):
    """A choice poll (question, 2–10 options) or, with kind player_ratings, a line-up to rate
    (players, optional coach; no options)."""

    question: str = Field(min_length=1, max_length=QUESTION_MAX)
    kind: PollKind = PollKind.CHOICE
    options: list[OptionLabel] = Field(
        default_factory=list,
        max_length=MAX_OPTIONS,
        description=f"{MIN_OPTIONS}–{MAX_OPTIONS} for a choice poll; none for player_ratings.",
    )
    max_choices: int = Field(default=1, ge=1, le=MAX_OPTIONS)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    results_visibility: ResultsVisibility = ResultsVisibility.ALWAYS
    voter_scope: VoterScope = VoterScope.EVERYONE
    players: list[PlayerIn] | None = Field(
        default=None,
        max_length=100,
        description=f"player_ratings: 1–{MAX_PLAYERS} players (422 lineup_empty, "
        "too_many_players, …; details.fields per player).",
    )
    coach: str | None = Field(default=None, max_length=200, description="Rated too.")
    home_team: str | None = Field(
        default=None,
        max_length=200,
        description="score_prediction: 1–60 characters (422 validation_failed, details.fields).",
    )
    away_team: str | None = Field(
        default=None, max_length=200, description="score_prediction: 1–60 characters."
    )
    competition: str | None = Field(
        default=None,
        max_length=200,
        description="score_prediction: the leaderboard's key, 1–60 characters, e.g. "
        "\"Jupiler Pro League 2026-27\". Kick-off is closes_at (required).",
    )


def _no_default(schema: dict[str, Any]) -> None:
    # Left out means unchanged; the None behind it is not a value a client may send.
    schema.pop("default", None)


class PollPatch(Input):
    """Any field of PollIn, and state; a field left out stays as it is. After the first ballot
    only closes_at, results_visibility and state may change (409 poll_frozen)."""

    # A poll always has a question, options and max_choices: null is refused, not "unchanged".
    question: str | SkipJsonSchema[None] = Field(
        default=None, min_length=1, max_length=QUESTION_MAX, json_schema_extra=_no_default
    )
    options: list[OptionLabel] | SkipJsonSchema[None] = Field(
        default=None,
        min_length=MIN_OPTIONS,
        max_length=MAX_OPTIONS,
        json_schema_extra=_no_default,
    )
    max_choices: int | SkipJsonSchema[None] = Field(
        default=None, ge=1, le=MAX_OPTIONS, json_schema_extra=_no_default
    )
    opens_at: datetime | None = Field(default=None, description="null: opens at once.")
    closes_at: datetime | None = Field(default=None, description="null: no closing time.")
    results_visibility: ResultsVisibility | None = Field(
        default=None, description="null: unchanged."
    )
    voter_scope: VoterScope | None = Field(default=None, description="null: unchanged.")
    state: PollTarget | None = Field(
        default=None,
        description="Close the poll now, or reopen it (with closes_at); null: unchanged.",
    )

    @field_validator("question", "options", "max_choices", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("Input should not be null")
        return value


class VoteIn(BaseModel):
    option_ids: list[int] = Field(min_length=1, max_length=MAX_OPTIONS)
    show_badge: bool | None = Field(
        default=None,
        description="Members only: show this choice beside your comments under the article "
        "(\"stemde: …\"). null: your account setting (a new ballot), unchanged (an existing "
        "one). Ignored for anonymous ballots.",
    )
    voter_token: str | None = Field(
        default=None, max_length=VOTER_TOKEN_MAX, description=f"Or the {VOTER_HEADER} header."
    )


class PlayerScore(BaseModel):
    player_id: int
    score: int = Field(ge=SCORE_MIN, le=SCORE_MAX)


class PredictionIn(BaseModel):
    home_goals: int = Field(ge=GOALS_MIN, le=GOALS_MAX)
    away_goals: int = Field(ge=GOALS_MIN, le=GOALS_MAX)


class PredictionBallot(BaseModel):
    home_goals: int = Field(ge=GOALS_MIN, le=GOALS_MAX)
    away_goals: int = Field(ge=GOALS_MIN, le=GOALS_MAX)
    points: int | None = Field(description="null until the result is in.")


class MatchOut(BaseModel):
    """A score_prediction poll's match; kick-off is the poll's closes_at."""

    home_team: str
    away_team: str
    competition: str
    kickoff: datetime
    result: PredictionIn | None = Field(description="The final score; null until entered.")
    predictions: int = Field(ge=0, description="Counted predictions (not in quarantine).")


class RatingsIn(BaseModel):
    ratings: list[PlayerScore] = Field(
        min_length=1, max_length=MAX_PLAYERS + 1, description="Each player at most once."
    )
    voter_token: str | None = Field(
        default=None, max_length=VOTER_TOKEN_MAX, description=f"Or the {VOTER_HEADER} header."
    )


class OptionOut(BaseModel):
    id: int
    label: str


class PlayerOut(BaseModel):
    id: int
    name: str
    shirt_number: int | None = Field(description="null for the coach.")
    role: PlayerRole


class PlayerResultOut(BaseModel):
    id: int
    count: int = Field(ge=0)
    average: float | None = Field(description="null without ratings.")
    distribution: list[int] = Field(description="Counted ratings of 1, 2, … 10.")


class RatingsResults(BaseModel):
    """Counted rating sets (quarantined ones excluded)."""

    ballots: int = Field(ge=0)
    players: list[PlayerResultOut]
    man_of_the_match: int | None = Field(
        description="The player with the highest average among those with at least "
        "motm_min_ratings ratings (TRIBUNE_MOTM_MIN_RATINGS); the coach is not eligible."
    )
    motm_min_ratings: int


class OptionResult(BaseModel):
    id: int
    votes: int = Field(ge=0)
    percent: int = Field(ge=0, le=100)


class Results(BaseModel):
    """Counted ballots (quarantined ones excluded)."""

    total: int = Field(ge=0)
    options: list[OptionResult]


class Ballot(BaseModel):
    id: int
    option_ids: list[int]
    created_at: datetime
    show_badge: bool = Field(
        default=False, description="The choice shows beside the member's comments."
    )
    ratings: list[PlayerScore] | None = Field(
        default=None, description="A player_ratings poll: the rating set."
    )
    prediction: PredictionBallot | None = Field(
        default=None, description="A score_prediction poll: the member's prediction."
    )


class BallotStats(BaseModel):
    ballots: int = Field(ge=0)
    counted: int = Field(ge=0)
    members: int = Field(ge=0)
    anonymous: int = Field(ge=0)
    suspicious: int = Field(ge=0)
    quarantined: int = Field(ge=0)


class PollOut(BaseModel):
    id: int
    article_id: str | None
    article_page: str | None
    question: str
    kind: PollKind
    state: PollState
    opens_at: datetime | None
    closes_at: datetime | None
    max_choices: int = Field(ge=1)
    voter_scope: VoterScope
    results_visibility: ResultsVisibility
    options: list[OptionOut]
    results: Results | None = Field(description="null while the results are not visible.")
    results_members: Results | None = Field(description="Logged-in fans only; null as results.")
    results_split: bool = Field(
        description="Whether the logged-in fans' stand differs enough from the anonymous voters' "
        "to show it beside the stand of all votes (widgets show one stand otherwise)."
    )
    own_ballot: Ballot | None
    players: list[PlayerOut] = Field(description="A player_ratings poll's line-up (coach last).")
    ratings: RatingsResults | None = Field(
        description="player_ratings: per player, when the results are visible."
    )
    ratings_members: RatingsResults | None = Field(description="Logged-in fans only.")
    match: MatchOut | None = Field(default=None, description="score_prediction: the match.")
    # Left out (never null) for non-editors: the document says BallotStats, and None is only the
    # default that lets the model be built without it.
    stats: BallotStats = Field(default=None, description="Editors only.")  # type: ignore[assignment]


class VoteOut(BaseModel):
    counted: bool = Field(description="false: the voter had voted; the same ballot back.")
    ballot: Ballot
    poll: PollOut


class RatingsOut(BaseModel):
    counted: bool = Field(description="false: the voter had rated; the same set back.")
    ballot: Ballot
    poll: PollOut


class PredictionOut(BaseModel):
    counted: bool = Field(description="false: the member had predicted; the same one back.")
    ballot: Ballot
    poll: PollOut


class ResultOut(BaseModel):
    poll: PollOut
    scored: int = Field(ge=0, description="Predictions scored (all of the poll's).")
    corrected: bool = Field(description="A result was there before: every prediction rescored.")


class StandingOut(BaseModel):
    rank: int = Field(ge=1, description="Equal points, exact scores and predictions share a rank.")
    user: str = Field(description="The member's name.")
    points: int
    predictions: int = Field(ge=0, description="Scored predictions.")
    exact: int = Field(ge=0, description="Exact scores.")


class LeaderboardOut(BaseModel):
    competition: str
    standings: list[StandingOut] = Field(description=f"The top {LEADERBOARD_TOP}.")
    members: int = Field(ge=0, description="Members on the leaderboard.")
    own: StandingOut | None = Field(description="The signed-in member's row; null otherwise.")


class VoterToken(BaseModel):
    voter_token: str
    poll_id: int
    max_age: int = Field(description="Seconds.")


# ---------------------------------------------------------------- comments


class PinIn(BaseModel):
    comment_id: int = Field(ge=1, le=ID_MAX, description="The editor's own published comment.")


class PinOut(BaseModel):
    article_id: str
    pinned_comment_id: int | None


class FeatureOut(BaseModel):
    id: int
    featured: bool
    featured_at: datetime | None


class CommentIn(BaseModel):
    body: str = Field(min_length=BODY_MIN, max_length=BODY_MAX)
    parent_id: int | None = Field(default=None, description="The comment this one replies to.")


class CommentEdit(BaseModel):
    body: str = Field(min_length=BODY_MIN, max_length=BODY_MAX)


class ReportIn(BaseModel):
    reason: ReasonCode
    note: str | None = Field(default=None, max_length=REPORT_NOTE_MAX)


class AppealIn(BaseModel):
    body: str = Field(min_length=APPEAL_MIN, max_length=APPEAL_MAX)


class ThreadComment(BaseModel):
    """A visible comment with its replies; a deleted one keeps its place without text."""

    id: int
    parent_id: int | None
    author: str | None
    body: str | None
    deleted: bool
    created_at: datetime
    edited_at: datetime | None
    reaction_count: int = Field(ge=0, description='"Sterk" reactions on the comment.')
    reacted: bool = Field(description='Whether the caller gave it a "Sterk" (anonymous: false).')
    featured: bool = Field(description="An editors' pick (\"Uitgelicht\").")
    vote_badge: str | None = Field(
        description="The author's choice in the article's poll (\"stemde: Ja\"), when they "
        "show it; null otherwise."
    )
    vote_option_ids: list[int] = Field(description="The options of the vote badge.")
    replies: list[ThreadComment]


class ThreadPage(BaseModel):
    article_id: str
    sort: Literal["newest", "oldest", "best"]
    pinned: ThreadComment | None = Field(
        description="The editor's own comment pinned above the thread (\"Redactie: …\")."
    )
    featured: list[ThreadComment] = Field(
        description="The \"Uitgelicht\" section: the latest picks, without replies."
    )
    comments: list[ThreadComment]
    count: int = Field(ge=0, description="Published comments, replies included.")
    page: int = Field(ge=1)
    pages: int = Field(ge=0)
    per_page: int = Field(ge=1)
    total_threads: int = Field(ge=0)


class OwnComment(BaseModel):
    """The author's view of their comment: its state and, when not published, why."""

    id: int
    parent_id: int | None
    body: str
    state: CommentState
    created_at: datetime
    edited_at: datetime | None
    reasons: list[ReasonCode]
    decision_reason: ReasonCode | None
    decision_note: str | None


class HeldComment(OwnComment):
    message: str = Field(description="It awaits a moderator.")


class MyComment(OwnComment):
    article_id: str


class MyComments(BaseModel):
    comments: list[MyComment]


class DeletedComment(BaseModel):
    id: int
    state: CommentState


class ReactionOut(BaseModel):
    """A comment's "Sterk" count after the change, and whether the caller gave one."""

    comment_id: int
    reaction_count: int = Field(ge=0)
    reacted: bool


class ReportOut(BaseModel):
    id: int
    comment_id: int
    reason: ReasonCode
    outcome: ReportOutcome
    created_at: datetime


class MyReport(ReportOut):
    resolved_at: datetime | None


class MyReports(BaseModel):
    reports: list[MyReport]


class AppealOut(BaseModel):
    id: int
    comment_id: int
    state: AppealState


# ---------------------------------------------------------------- the account's own data


class ExportHistoryRow(BaseModel):
    id: int
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    note: str | None
    created_at: datetime


class ExportCommentCounts(BaseModel):
    published: int
    held: int
    rejected: int


class ExportAccount(BaseModel):
    """The account itself; a package that adds a column to users (a verified address) may
    add its field."""

    model_config = ConfigDict(extra="allow")

    id: int
    username: str
    email: str
    role: str
    active: bool
    password_login: bool = Field(description="False: an account of a news site's single sign-on.")
    created_at: datetime
    last_login_at: datetime | None
    banned_until: datetime | None
    ban_reason: str | None
    show_vote_badge: bool = Field(
        description="The account setting: the fan's poll choices shown beside their comments."
    )
    comment_counts: ExportCommentCounts
    history: list[ExportHistoryRow] = Field(
        description="Audit rows about the account: suspensions, bans, role and status changes."
    )


class ExportComment(BaseModel):
    id: int
    article_id: str
    article_title: str
    parent_id: int | None
    body: str
    state: CommentState
    reasons: list[ReasonCode]
    decision_reason: ReasonCode | None
    decision_note: str | None
    created_at: datetime
    edited_at: datetime | None
    updated_at: datetime
    body_erased_at: datetime | None


class ExportReport(BaseModel):
    id: int
    comment_id: int
    reason: ReasonCode
    note: str | None
    outcome: ReportOutcome
    created_at: datetime
    resolved_at: datetime | None


class ExportAppeal(BaseModel):
    id: int
    comment_id: int
    body: str
    state: AppealState
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class ExportBallot(BaseModel):
    id: int
    poll_id: int
    poll_question: str
    article_id: str
    choices: list[str] = Field(description="The labels of the chosen options.")
    counted: bool = Field(description="False while the ballot is in quarantine.")
    show_badge: bool = Field(description="The choice shows beside the fan's comments.")
    ip_hash_kept: bool
    created_at: datetime


class ExportApiToken(BaseModel):
    """An API token's name, scopes and times: never the token or its hash."""

    id: int
    name: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    revoked_reason: str | None


class ExportAccountLink(BaseModel):
    """A link mailed to the account (password reset, address check, change of address):
    never the token or its hash."""

    id: int
    purpose: str = Field(description="reset, verify or change_email.")
    new_email: str | None = Field(description="The address the link was mailed to or moves to.")
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


class ExportRememberToken(BaseModel):
    id: int
    created_at: datetime
    used_at: datetime | None
    expires_at: datetime


class ExportEmbedSession(BaseModel):
    id: int
    via: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class ExportSessions(BaseModel):
    remember_count: int
    embed_session_count: int
    remember_tokens: list[ExportRememberToken]
    embed_sessions: list[ExportEmbedSession]


class ExportSsoIdentity(BaseModel):
    id: int
    issuer: str
    subject: str
    name: str
    email: str | None
    created_at: datetime
    last_seen_at: datetime


class ExportNote(BaseModel):
    id: int
    body: str
    created_at: datetime


class ExportMessage(BaseModel):
    """A mail Tribune wrote to the account (the outbox)."""

    id: int
    channel: str
    kind: str
    recipient: str
    state: str
    created_at: datetime
    sent_at: datetime | None


class ExportAction(BaseModel):
    id: int
    action: str
    target_type: str
    target_id: str
    from_state: str | None
    to_state: str | None
    created_at: datetime


class ExportPollCreated(BaseModel):
    id: int
    question: str
    created_at: datetime


class ExportWindowCreated(BaseModel):
    id: int
    mode: str
    starts_at: datetime
    ends_at: datetime


class ExportWordChange(BaseModel):
    id: int
    action: str
    word: str
    created_at: datetime


class ExportAppealDecided(BaseModel):
    id: int
    comment_id: int
    decided_at: datetime | None


class ExportNoteWritten(BaseModel):
    id: int
    user_id: int
    created_at: datetime


class ExportCommentFeatured(BaseModel):
    id: int
    featured_at: datetime | None


class ExportStaffActivity(BaseModel):
    actions: list[ExportAction]
    polls_created: list[ExportPollCreated]
    match_day_windows_created: list[ExportWindowCreated]
    word_list_changes: list[ExportWordChange]
    appeals_decided: list[ExportAppealDecided]
    notes_written: list[ExportNoteWritten]
    comments_featured: list[ExportCommentFeatured]


class ExportDigestItem(BaseModel):
    id: int
    kind: str
    article_title: str
    summary: str | None
    created_at: datetime


class ExportNotifications(BaseModel):
    """The account's notification choices (stored or default) and digest lines still waiting."""

    settings: list[dict[str, Any]]
    defaults_apply: bool
    choices: dict[str, str] = Field(description="Per kind: immediate, daily or never.")
    digest_items: list[ExportDigestItem]


class ExportWebhookEndpoint(BaseModel):
    id: int
    url: str
    description: str
    events: list[str]
    enabled: bool
    created_at: datetime


class ExportWebhooksCreated(BaseModel):
    """Staff work: the webhook endpoints this account registered (never their secrets)."""

    endpoints: list[ExportWebhookEndpoint]


class ExportFiledNotice(BaseModel):
    id: int
    comment_id: int
    ground: str = Field(description="The legal ground (models.NoticeGround).")
    explanation: str
    name: str | None
    email: str | None
    state: Literal["open", "decided"]
    decision: Literal["removed", "no_action"] | None
    created_at: datetime
    decided_at: datetime | None
    complaint: str | None = Field(description="The notifier's complaint against no action.")
    complaint_state: Literal["pending", "upheld", "denied"] | None
    complaint_at: datetime | None
    complaint_decided_at: datetime | None


class ExportDecidedNotice(BaseModel):
    id: int
    comment_id: int
    decision: Literal["removed", "no_action"] | None
    decided_at: datetime | None


class ExportDecidedComplaint(BaseModel):
    id: int
    comment_id: int
    complaint_state: Literal["pending", "upheld", "denied"] | None
    complaint_decided_at: datetime | None


class ExportDsaNotices(BaseModel):
    """Notices of illegal content (DSA art. 16) the account filed signed in, and (staff) the
    ones it decided and the notifiers' complaints it decided (art. 20)."""

    filed: list[ExportFiledNotice]
    decided: list[ExportDecidedNotice]
    complaints_decided: list[ExportDecidedComplaint]


class ExportReaction(BaseModel):
    """A "Sterk" the account gave."""

    id: int
    comment_id: int
    created_at: datetime | None


class AccountExport(BaseModel):
    """Everything Tribune holds about the account (GDPR Art. 15 and 20). Sections other
    packages register (privacy.export.register_section, e.g. notification settings) appear as
    further top-level keys."""

    model_config = ConfigDict(extra="allow")

    format: Literal["tribune-export/1"]
    exported_at: datetime
    account: ExportAccount
    comments: list[ExportComment]
    reports: list[ExportReport]
    reactions: list[ExportReaction] = Field(description='"Sterk" reactions the account gave.')
    appeals: list[ExportAppeal]
    ballots: list[ExportBallot]
    api_tokens: list[ExportApiToken]
    account_links: list[ExportAccountLink] = Field(
        description="Links mailed to the account (accounts.care)."
    )
    sessions: ExportSessions
    sso_identities: list[ExportSsoIdentity]
    notes_about_you: list[ExportNote] = Field(description="Moderators' notes on the account.")
    messages: list[ExportMessage] = Field(description="Mails written to the account.")
    staff_activity: ExportStaffActivity
    notifications: ExportNotifications
    webhooks_created: ExportWebhooksCreated
    dsa_notices: ExportDsaNotices


# ---------------------------------------------------------------- the comments embed's sessions


class EmbedSessionIn(Input):
    """The news site's signed SSO token for its reader (docs/embed.md)."""

    sso_token: str = Field(
        min_length=1, max_length=SSO_TOKEN_MAX, description="A JWT (HS256, RS256 or EdDSA)."
    )


class EmbedUser(BaseModel):
    id: int
    name: str = Field(description='The display name comments show (maybe "Jan · 2").')


class EmbedSessionOut(BaseModel):
    """An embed access token: send it as Authorization: Bearer; refresh it before it expires."""

    access_token: str = Field(description="Opaque, starts with tre_; keep it in memory only.")
    expires_in: int = Field(description="Seconds until it stops working.")
    user: EmbedUser


class OpenAPIDocument(BaseModel):
    """An OpenAPI 3.1 document."""

    model_config = ConfigDict(extra="allow")

    openapi: str
    info: dict[str, Any]
    paths: dict[str, Any]
    components: dict[str, Any]
