"""Flag codes, severities and the result types of screening."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, IntEnum
from typing import Any

from reasons import ReasonCode


class Severity(IntEnum):
    """How strongly a flag pushes the decision; the worst flag decides."""

    INFO = 10
    HOLD = 20
    REJECT = 30


# The reason codes of docs/design.md (defined once in reasons.py, shared with the models).
Reason = ReasonCode


class FlagCode(Enum):
    """A screening signal, with its severity, reason code and Dutch label."""

    SLUR = ("slur", Severity.REJECT, Reason.RACISME, "Racistisch of haatdragend scheldwoord")
    SEVERE_INSULT = ("severe_insult", Severity.REJECT, Reason.BELEDIGEND, "Zware belediging")
    INSULT = ("insult", Severity.HOLD, Reason.BELEDIGEND, "Belediging")
    HATE_TERM = ("hate_term", Severity.HOLD, Reason.RACISME, "Mogelijk haatdragende term")
    CURSE = ("curse", Severity.HOLD, Reason.BELEDIGEND, "Vloek of verwensing")
    COMPOUND_CURSE = (
        "compound_curse", Severity.HOLD, Reason.BELEDIGEND, "Samenstelling met een vloek"
    )
    EVASION = ("evasion", Severity.HOLD, Reason.BELEDIGEND, "Verhulde grove taal")
    TARGETED_PROFANITY = (
        "targeted_profanity", Severity.HOLD, Reason.RACISME, "Grove taal gericht tegen een groep"
    )
    THREAT = ("threat", Severity.HOLD, Reason.BEDREIGING, "Mogelijke bedreiging")
    THREAT_PHRASE = (
        "threat_phrase", Severity.HOLD, Reason.BEDREIGING, "Dreigende zin (geweld)"
    )
    GROUP_HATRED = (
        "group_hatred", Severity.HOLD, Reason.RACISME, "Vijandige uitspraak over een groep"
    )
    DEHUMANISATION = (
        "dehumanisation", Severity.HOLD, Reason.RACISME, "Ontmenselijkende vergelijking"
    )
    INSULTING_PHRASE = (
        "insulting_phrase", Severity.HOLD, Reason.BELEDIGEND, "Beledigende woordcombinatie"
    )
    SPAM_PHRASE = ("spam_phrase", Severity.HOLD, Reason.SPAM, "Spamzin")
    LINK = ("link", Severity.HOLD, Reason.SPAM, "Link naar een externe site")
    PHONE_NUMBER = (
        "phone_number", Severity.HOLD, Reason.PERSOONSGEGEVENS, "Telefoonnummer"
    )
    EMAIL_ADDRESS = (
        "email_address", Severity.HOLD, Reason.PERSOONSGEGEVENS, "E-mailadres"
    )
    SHOUTING = ("shouting", Severity.HOLD, Reason.ANDERE, "Roepen in hoofdletters")
    CHAR_FLOOD = ("char_flood", Severity.HOLD, Reason.SPAM, "Reeks herhaalde tekens")
    # The operator's scoring model (scoring/): a score at or above its admin-set threshold.
    # Stored with the severity the admin chose (hold, or info: only shown to moderators).
    MODEL_TOXICITY = ("model_toxicity", Severity.HOLD, Reason.BELEDIGEND, "Model: giftige taal")
    MODEL_SEVERE_TOXICITY = (
        "model_severe_toxicity", Severity.HOLD, Reason.BELEDIGEND, "Model: zeer giftige taal"
    )
    MODEL_IDENTITY_ATTACK = (
        "model_identity_attack", Severity.HOLD, Reason.RACISME, "Model: aanval op een groep"
    )
    MODEL_INSULT = ("model_insult", Severity.HOLD, Reason.BELEDIGEND, "Model: belediging")
    MODEL_THREAT = ("model_threat", Severity.HOLD, Reason.BEDREIGING, "Model: bedreiging")
    MODEL_PROFANITY = (
        "model_profanity", Severity.HOLD, Reason.BELEDIGEND, "Model: grove taal"
    )

    def __init__(self, code: str, severity: Severity, reason: Reason, label_nl: str) -> None:
        self.code = code
        self.severity = severity
        self.reason = reason
        self.label_nl = label_nl

    @classmethod
    def from_code(cls, code: str) -> FlagCode:
        """Look a flag code up by its stored string."""
        for member in cls:
            if member.code == code:
                return member
        raise ValueError(f"unknown flag code: {code!r}")


@dataclass(frozen=True, slots=True)
class Flag:
    """One signal: what fired, why, and where in the original text (code-point offsets)."""

    code: FlagCode
    detail: str
    start: int
    end: int

    @property
    def severity(self) -> Severity:
        """The severity of this flag's code."""
        return self.code.severity

    @property
    def label_nl(self) -> str:
        """The Dutch label of this flag's code."""
        return self.code.label_nl

    @property
    def reason(self) -> str:
        """The reason code (docs/design.md, "Reason codes") this flag maps to."""
        return self.code.reason.value

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict matching the stored flag columns."""
        return {
            "code": self.code.code,
            "severity": self.severity.name.lower(),
            "reason": self.reason,
            "label_nl": self.label_nl,
            "detail": self.detail,
            "span_start": self.start,
            "span_end": self.end,
        }


PUBLISH = "publish"
HOLD = "hold"
REJECT = "reject"
DECISIONS = (PUBLISH, HOLD, REJECT)


@dataclass(frozen=True, slots=True)
class Screening:
    """The outcome of screening one text: a decision and the flags behind it."""

    decision: str
    flags: tuple[Flag, ...] = ()
    lexicon_version: int = 0

    @property
    def most_severe(self) -> Flag | None:
        """The first flag with the highest severity, or None."""
        if not self.flags:
            return None
        return max(self.flags, key=lambda f: f.severity)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Distinct reason codes of the flags, most severe first."""
        ordered = sorted(self.flags, key=lambda f: -f.severity)
        return tuple(dict.fromkeys(f.reason for f in ordered))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the decision and flags."""
        return {
            "decision": self.decision,
            "lexicon_version": self.lexicon_version,
            "flags": [f.to_dict() for f in self.flags],
        }


def decide(flags: tuple[Flag, ...]) -> str:
    """Map flags to a decision: any reject flag rejects, any hold flag holds."""
    worst = max((f.severity for f in flags), default=Severity.INFO)
    if worst >= Severity.REJECT:
        return REJECT
    if worst >= Severity.HOLD:
        return HOLD
    return PUBLISH
