"""DSA notices (art. 16): anyone's notice of illegal content about one comment, and the
moderator's decision on it (art. 17 and 20); counted in the transparency export (art. 24)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, str_enum, utcnow


class NoticeGround(enum.Enum):
    """The legal ground a notifier names (Belgian and EU law)."""

    RACISME = "racisme"  # antiracisme- en antidiscriminatiewet (wetten van 1981 en 2007)
    NEGATIONISME = "negationisme"  # negationismewet van 23 maart 1995
    BEDREIGING = "bedreiging"  # Strafwetboek: bedreiging, aanzetten tot geweld
    PRIVACY = "privacy"  # AVG/GDPR, portretrecht, belaging
    AUTEURSRECHT = "auteursrecht"  # Wetboek van economisch recht, boek XI
    KINDERMISBRUIK = "kindermisbruik"  # seksueel misbruik van kinderen (art. 16(2)(c) exempt)
    ANDERE = "andere"

    @property
    def label_nl(self) -> str:
        """The label notifiers, moderators and authors see."""
        return NOTICE_GROUND_LABELS_NL[self.value]


NOTICE_GROUND_LABELS_NL = {
    "racisme": "Racisme of discriminatie (antiracisme- en antidiscriminatiewet)",
    "negationisme": "Negationisme (ontkenning of goedpraten van genocide)",
    "bedreiging": "Bedreiging of aanzetten tot geweld",
    "privacy": "Schending van privacy of persoonsgegevens",
    "auteursrecht": "Inbreuk op auteursrecht",
    "kindermisbruik": "Seksueel misbruik van kinderen",
    "andere": "Andere illegale inhoud",
}


class NoticeState(enum.Enum):
    OPEN = "open"
    DECIDED = "decided"


class NoticeDecision(enum.Enum):
    """What the decision did to the comment."""

    REMOVED = "removed"  # taken off the site (removed if published, rejected if held)
    NO_ACTION = "no_action"  # it stays as it is

    @property
    def label_nl(self) -> str:
        return {"removed": "Verwijderd", "no_action": "Geen actie"}[self.value]


class ComplaintState(enum.Enum):
    """The notifier's complaint against a decision to take no action (DSA art. 20)."""

    PENDING = "pending"
    UPHELD = "upheld"  # the comment is taken off the site after all
    DENIED = "denied"  # no action stands

    @property
    def label_nl(self) -> str:
        return {"pending": "In behandeling", "upheld": "Toegekend", "denied": "Afgewezen"}[
            self.value
        ]


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        # The moderators' tab: open notices, oldest first; the decided list, latest first.
        Index("ix_notices_state_created_at", "state", "created_at"),
        Index("ix_notices_decided_at", "decided_at"),
        Index("ix_notices_created_at", "created_at"),
        Index("ix_notices_complaint_state_complaint_at", "complaint_state", "complaint_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    ground: Mapped[NoticeGround] = mapped_column(str_enum(NoticeGround))
    explanation: Mapped[str] = mapped_column(Text)
    # Required by art. 16(2)(c) except for child sexual abuse material.
    notifier_name: Mapped[str | None] = mapped_column(String(200))
    notifier_email: Mapped[str | None] = mapped_column(String(254))
    # The account that filed it, when signed in.
    notifier_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    good_faith: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[NoticeState] = mapped_column(str_enum(NoticeState), default=NoticeState.OPEN)
    decision: Mapped[NoticeDecision | None] = mapped_column(str_enum(NoticeDecision))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Whether automated means took the decision (a moderator always decides a notice today).
    automated: Mapped[bool] = mapped_column(Boolean, default=False)
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The notifier's one complaint against "no action" (art. 20): the key signs the link in the
    # outcome mail, so a notifier without an account can complain too.
    complaint_key: Mapped[str | None] = mapped_column(String(64))
    complaint_state: Mapped[ComplaintState | None] = mapped_column(str_enum(ComplaintState))
    complaint_body: Mapped[str | None] = mapped_column(Text)
    complaint_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complaint_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    complaint_decided_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    complaint_note: Mapped[str | None] = mapped_column(String(1000))
