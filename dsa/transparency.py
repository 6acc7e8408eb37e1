"""The transparency export (DSA art. 24, art. 15): what happened in a period, counted from the
rows: notices by legal ground, decisions by kind and by automated vs human means (screening's
holds and rejections, moderators' decisions, from the audit log), the median handling time of
notices, appeals received with their outcomes, and notifiers' complaints against "no action"
(art. 20) with theirs."""

from __future__ import annotations

import csv
import io
import json
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import brussels
from errors import Invalid
from models import (
    Appeal,
    AppealState,
    ComplaintState,
    ModerationAction,
    Notice,
    NoticeDecision,
    NoticeGround,
    NoticeState,
)

FORMATS = ("csv", "json")
MAX_DAYS = 5 * 366
# An audit row's (action, to_state) → the kind of decision it is. A post that publishes at once
# decides nothing; "*" stands for any target state. Appeals are counted apart (`appeals`).
DECISION_KINDS: dict[tuple[str, str], str] = {
    ("post", "held"): "hold",
    ("post", "rejected"): "reject",
    ("edit", "held"): "hold",  # the edit was screened again
    ("report_threshold", "*"): "hold",
    ("approve", "*"): "approve",
    ("mark_reviewed", "*"): "approve",
    ("reject", "*"): "reject",
    ("remove", "*"): "remove",
    ("restore", "*"): "restore",
    ("dismiss_reports", "*"): "keep",
}
DECISION_KIND_LABELS_NL = {
    "hold": "tegengehouden voor nakijken",
    "reject": "geweigerd",
    "remove": "verwijderd",
    "approve": "goedgekeurd",
    "restore": "hersteld",
    "keep": "meldingen onterecht, blijft staan",
}
# Screening judges an author's edit again: that hold is automated although the author acted.
SCREENED_ACTIONS = frozenset({"edit"})
APPEAL_OUTCOMES = tuple(state.value for state in AppealState)
COMPLAINT_OUTCOMES = tuple(state.value for state in ComplaintState)


def decision_kind(action: str, to_state: str | None) -> str | None:
    """The kind of decision an audit row is, or None when it is none."""
    return DECISION_KINDS.get((action, to_state or "")) or DECISION_KINDS.get((action, "*"))


@dataclass(frozen=True)
class Period:
    """Belgian calendar days `first`…`last` (both included), as a UTC range [start, end)."""

    first: date
    last: date

    @property
    def start(self) -> datetime:
        return brussels.from_local(datetime.combine(self.first, time()))

    @property
    def end(self) -> datetime:
        return brussels.from_local(datetime.combine(self.last + timedelta(days=1), time()))


def period(first: date | None, last: date | None) -> Period:
    """A valid period, or 422 `invalid_period` beside the field at fault."""
    if first is None:
        raise Invalid("invalid_period", "Kies een begindatum.", details={"field": "van"})
    if last is None:
        raise Invalid("invalid_period", "Kies een einddatum.", details={"field": "tot"})
    if last < first:
        raise Invalid(
            "invalid_period", "De einddatum ligt voor de begindatum.", details={"field": "tot"}
        )
    if (last - first).days >= MAX_DAYS:
        raise Invalid(
            "invalid_period", "Kies een periode van hoogstens vijf jaar.", details={"field": "tot"}
        )
    try:
        chosen = Period(first, last)
        chosen.start, chosen.end  # noqa: B018  (a year out of range fails here)
    except brussels.LocalTimeError as exc:
        raise Invalid("invalid_period", str(exc), details={"field": "van"}) from None
    return chosen


def _means() -> dict[str, int]:
    return {"automated": 0, "human": 0}


@dataclass
class TransparencyReport:
    """The figures of one period (see the module's docstring)."""

    period: Period
    notices_by_ground: dict[str, int] = field(
        default_factory=lambda: {ground.value: 0 for ground in NoticeGround}
    )
    notices_open: int = 0
    notice_decisions: dict[str, int] = field(
        default_factory=lambda: {decision.value: 0 for decision in NoticeDecision}
    )
    notice_decisions_by_means: dict[str, int] = field(default_factory=_means)
    median_handling_seconds: float | None = None
    decisions: dict[str, dict[str, int]] = field(
        default_factory=lambda: {kind: _means() for kind in DECISION_KIND_LABELS_NL}
    )
    appeals: dict[str, int] = field(
        default_factory=lambda: {"received": 0, **{outcome: 0 for outcome in APPEAL_OUTCOMES}}
    )
    notice_complaints: dict[str, int] = field(
        default_factory=lambda: {"received": 0, **{outcome: 0 for outcome in COMPLAINT_OUTCOMES}}
    )

    @property
    def notices_total(self) -> int:
        return sum(self.notices_by_ground.values())

    def as_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "period": {
                "from": self.period.first.isoformat(),
                "to": self.period.last.isoformat(),
                "start_utc": self.period.start.isoformat(),
                "end_utc": self.period.end.isoformat(),
            },
            "notices": {
                "received": self.notices_total,
                "by_ground": self.notices_by_ground,
                "still_open": self.notices_open,
                "decisions": self.notice_decisions,
                "decisions_by_means": self.notice_decisions_by_means,
                "median_handling_seconds": self.median_handling_seconds,
            },
            "decisions": self.decisions,
            "appeals": self.appeals,
            "notice_complaints": self.notice_complaints,
        }

    def rows(self) -> list[tuple[str, str, str]]:
        """The CSV rows: (section, key, value), one figure each."""
        out: list[tuple[str, str, str]] = [
            ("period", "from", self.period.first.isoformat()),
            ("period", "to", self.period.last.isoformat()),
            ("notices", "received", str(self.notices_total)),
            ("notices", "still_open", str(self.notices_open)),
            (
                "notices",
                "median_handling_seconds",
                "" if self.median_handling_seconds is None else str(self.median_handling_seconds),
            ),
        ]
        out += [("notices_by_ground", k, str(v)) for k, v in self.notices_by_ground.items()]
        out += [("notice_decisions", k, str(v)) for k, v in self.notice_decisions.items()]
        out += [
            ("notice_decisions_by_means", k, str(v))
            for k, v in self.notice_decisions_by_means.items()
        ]
        for kind, means in self.decisions.items():
            out += [(f"decisions_{mean}", kind, str(count)) for mean, count in means.items()]
        out += [("appeals", k, str(v)) for k, v in self.appeals.items()]
        out += [("notice_complaints", k, str(v)) for k, v in self.notice_complaints.items()]
        return out

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(("section", "key", "value"))
        writer.writerows(self.rows())
        return buffer.getvalue()

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), ensure_ascii=False, indent=2)


def build_report(session: Session, chosen: Period) -> TransparencyReport:
    """Count the period's notices, decisions and appeals from their rows."""
    start, end = chosen.start, chosen.end
    report = TransparencyReport(chosen)
    received = session.execute(
        select(Notice.ground, Notice.state).where(
            Notice.created_at >= start, Notice.created_at < end
        )
    )
    for ground, state in received:
        report.notices_by_ground[ground.value] += 1
        report.notices_open += state is NoticeState.OPEN
    decided = session.execute(
        select(Notice.decision, Notice.automated, Notice.created_at, Notice.decided_at).where(
            Notice.state == NoticeState.DECIDED,
            Notice.decided_at >= start,
            Notice.decided_at < end,
        )
    )
    handling = []
    for decision, automated, created_at, decided_at in decided:
        report.notice_decisions[decision.value] += 1
        report.notice_decisions_by_means["automated" if automated else "human"] += 1
        handling.append((decided_at - created_at).total_seconds())
    if handling:
        report.median_handling_seconds = float(statistics.median(handling))
    actions = session.execute(
        select(ModerationAction.action, ModerationAction.to_state, ModerationAction.actor_id).where(
            ModerationAction.target_type == "comment",
            ModerationAction.created_at >= start,
            ModerationAction.created_at < end,
        )
    )
    for action, to_state, actor_id in actions:
        kind = decision_kind(action, to_state)
        if kind is None:
            continue
        automated = actor_id is None or action in SCREENED_ACTIONS
        report.decisions[kind]["automated" if automated else "human"] += 1
    appeals = session.scalars(
        select(Appeal.state).where(Appeal.created_at >= start, Appeal.created_at < end)
    )
    for state in appeals:
        report.appeals["received"] += 1
        report.appeals[state.value] += 1
    complaints = session.scalars(
        select(Notice.complaint_state).where(
            Notice.complaint_at >= start, Notice.complaint_at < end
        )
    )
    for complaint_state in complaints:
        if complaint_state is None:  # complaint_at is set with the state; never here
            continue
        report.notice_complaints["received"] += 1
        report.notice_complaints[complaint_state.value] += 1
    return report
