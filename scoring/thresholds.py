"""The admins' thresholds: per attribute a score (0–1, or none = off) at or above which the
model's score becomes a flag, and whether that flag holds the comment (else it only informs the
moderators). Stored as one site_settings row; read by the worker for every scored comment."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from errors import Invalid
from models import SiteSetting, User
from moderation.audit import record_action
from moderation.flags import FlagCode, Severity
from scoring.client import ATTRIBUTES

SETTING_KEY = "scorer_thresholds"

FLAG_CODES: dict[str, FlagCode] = {
    "TOXICITY": FlagCode.MODEL_TOXICITY,
    "SEVERE_TOXICITY": FlagCode.MODEL_SEVERE_TOXICITY,
    "IDENTITY_ATTACK": FlagCode.MODEL_IDENTITY_ATTACK,
    "INSULT": FlagCode.MODEL_INSULT,
    "THREAT": FlagCode.MODEL_THREAT,
    "PROFANITY": FlagCode.MODEL_PROFANITY,
}

# What each attribute measures, as the admin page says it.
ATTRIBUTE_LABELS_NL = {
    "TOXICITY": "Giftige taal",
    "SEVERE_TOXICITY": "Zeer giftige taal",
    "IDENTITY_ATTACK": "Aanval op een groep (identiteit)",
    "INSULT": "Belediging",
    "THREAT": "Bedreiging",
    "PROFANITY": "Grove taal",
}


@dataclass(frozen=True)
class Threshold:
    """One attribute's rule: the score that flags (None: off) and whether the flag holds."""

    value: float | None
    hold: bool

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "hold": self.hold}


DEFAULT_THRESHOLDS: dict[str, Threshold] = {
    "TOXICITY": Threshold(0.9, False),  # broad: flags for the moderators, holds nothing
    "SEVERE_TOXICITY": Threshold(0.85, True),
    "IDENTITY_ATTACK": Threshold(0.8, True),
    "INSULT": Threshold(0.9, True),
    "THREAT": Threshold(0.8, True),
    "PROFANITY": Threshold(None, False),  # football swearing is the word lists' business
}

OUT_OF_RANGE_NL = "Kies een getal van 0 tot 1 (bv. 0,8), of laat leeg om uit te zetten."


def _stored(value: object) -> Threshold | None:
    if not isinstance(value, Mapping):
        return None
    number, hold = value.get("value"), value.get("hold")
    if number is not None and not (isinstance(number, int | float) and 0 <= number <= 1):
        return None
    return Threshold(None if number is None else float(number), bool(hold))


def load_thresholds(session: Session) -> dict[str, Threshold]:
    """The thresholds in force: the admins' stored ones, the defaults for any not stored."""
    row = session.get(SiteSetting, SETTING_KEY)
    stored = row.value if row is not None and isinstance(row.value, Mapping) else {}
    thresholds = dict(DEFAULT_THRESHOLDS)
    for name in ATTRIBUTES:
        found = _stored(stored.get(name))
        if found is not None:
            thresholds[name] = found
    return thresholds


def save_thresholds(
    session: Session, actor: User, thresholds: Mapping[str, Threshold]
) -> dict[str, Threshold]:
    """Store every attribute's threshold (422 beside the field for a value outside 0–1)."""
    fields = {
        name: OUT_OF_RANGE_NL
        for name, threshold in thresholds.items()
        if threshold.value is not None and not 0 <= threshold.value <= 1
    }
    unknown = sorted(set(thresholds) - set(ATTRIBUTES))
    if unknown:
        raise Invalid("invalid_threshold", f"Onbekend kenmerk: {unknown[0]}.")
    if fields:
        raise Invalid("invalid_threshold", OUT_OF_RANGE_NL, details={"fields": fields})
    merged = {**load_thresholds(session), **thresholds}
    value = {name: merged[name].to_json() for name in ATTRIBUTES}
    row = session.get(SiteSetting, SETTING_KEY, with_for_update=True)
    if row is None:
        session.add(SiteSetting(key=SETTING_KEY, value=value))
    else:
        row.value = value
    record_action(
        session,
        actor,
        "site_setting",
        SETTING_KEY,
        "scorer_thresholds",
        note=", ".join(
            f"{name} {'uit' if t.value is None else t.value}{' houdt vast' if t.hold else ''}"
            for name, t in merged.items()
        ),
    )
    session.flush()
    return merged


@dataclass(frozen=True)
class ModelFlag:
    """A score at or above its threshold: the flag row to store."""

    code: FlagCode
    severity: Severity
    attribute: str
    score: float
    threshold: float

    @property
    def detail(self) -> str:
        """What the moderators read beside the label: the attribute, its score, the bar."""
        return f"{self.attribute} {self.score:.2f} (drempel {self.threshold:.2f})"


def flags_for(scores: Mapping[str, float], thresholds: Mapping[str, Threshold]) -> list[ModelFlag]:
    """The flags a set of scores earns (at or above an attribute's threshold), in ATTRIBUTES
    order; a hold threshold gives a hold flag, the others an info flag."""
    found = []
    for name in ATTRIBUTES:
        threshold = thresholds[name]
        score = scores.get(name)
        if threshold.value is None or score is None or score < threshold.value:
            continue
        severity = Severity.HOLD if threshold.hold else Severity.INFO
        found.append(ModelFlag(FLAG_CODES[name], severity, name, score, threshold.value))
    return found
