"""The reason codes of docs/design.md: one list for reports, flags and rejections, Dutch labels.

Shared by the models (stored values) and by screening (which must not need a database).
"""

from enum import StrEnum


class ReasonCode(StrEnum):
    BELEDIGEND = "beledigend"
    RACISME = "racisme"
    BEDREIGING = "bedreiging"
    SPAM = "spam"
    PERSOONSGEGEVENS = "persoonsgegevens"
    OFF_TOPIC = "off-topic"
    ILLEGAAL = "illegaal"
    ANDERE = "andere"

    @property
    def label_nl(self) -> str:
        """The label moderators, reporters and authors see."""
        return REASON_LABELS_NL[self]


REASON_LABELS_NL = {
    ReasonCode.BELEDIGEND: "Beledigend",
    ReasonCode.RACISME: "Racisme of haat",
    ReasonCode.BEDREIGING: "Bedreiging",
    ReasonCode.SPAM: "Spam of reclame",
    ReasonCode.PERSOONSGEGEVENS: "Persoonsgegevens",
    ReasonCode.OFF_TOPIC: "Niet ter zake",
    ReasonCode.ILLEGAAL: "Illegale inhoud",
    ReasonCode.ANDERE: "Andere reden",
}
