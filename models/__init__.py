"""Persistence only: every table Tribune has, importable from one place."""

from models.account_token import AccountToken, TokenPurpose
from models.article import ARTICLE_ID_PATTERN, Article, CommentMode, ThreadSort
from models.base import Base, utcnow
from models.comment import (
    Comment,
    CommentState,
    Flag,
    ReasonCode,
    Report,
    ReportOutcome,
)
from models.embed import EmbedSession, EmbedVia, SsoIdentity
from models.moderation import Appeal, AppealState, MatchDayMode, MatchDayWindow, ModerationAction
from models.notice import ComplaintState, Notice, NoticeDecision, NoticeGround, NoticeState
from models.notifications import (
    Delivery,
    DigestItem,
    NotificationClock,
    NotificationKind,
    NotificationSettings,
)
from models.outbox import Channel, MessageState, OutboxAttempt, OutboxMessage, WorkerJob
from models.poll import (
    Ballot,
    BallotChoice,
    PlayerRating,
    PlayerRole,
    Poll,
    PollKind,
    PollOption,
    PollPlayer,
    ResultsVisibility,
    ScorePrediction,
    VoterScope,
)
from models.reaction import Reaction
from models.scoring import ScoringJob, ScoringState
from models.settings import LexiconAction, LexiconEntry, QueueCounter, SiteSetting
from models.user import (
    ApiToken,
    RememberToken,
    Role,
    TokenRevocation,
    TokenScope,
    User,
    UserNote,
)
from models.webhooks import WebhookEndpoint

__all__ = [
    "AccountToken",
    "TokenPurpose",
    "ARTICLE_ID_PATTERN",
    "ApiToken",
    "Appeal",
    "AppealState",
    "MatchDayMode",
    "MatchDayWindow",
    "Article",
    "Ballot",
    "BallotChoice",
    "Base",
    "Channel",
    "Comment",
    "Delivery",
    "DigestItem",
    "NotificationClock",
    "NotificationKind",
    "NotificationSettings",
    "ComplaintState",
    "Notice",
    "NoticeDecision",
    "NoticeGround",
    "NoticeState",
    "MessageState",
    "OutboxAttempt",
    "OutboxMessage",
    "WorkerJob",
    "EmbedSession",
    "EmbedVia",
    "SsoIdentity",
    "CommentMode",
    "CommentState",
    "Flag",
    "LexiconAction",
    "LexiconEntry",
    "QueueCounter",
    "ScorePrediction",
    "ScoringJob",
    "ScoringState",
    "SiteSetting",
    "ModerationAction",
    "PlayerRating",
    "PlayerRole",
    "Poll",
    "PollKind",
    "PollPlayer",
    "PollOption",
    "ReasonCode",
    "RememberToken",
    "TokenRevocation",
    "ThreadSort",
    "TokenScope",
    "Reaction",
    "Report",
    "ReportOutcome",
    "ResultsVisibility",
    "Role",
    "User",
    "UserNote",
    "VoterScope",
    "WebhookEndpoint",
    "utcnow",
]
