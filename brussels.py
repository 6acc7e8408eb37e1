"""Belgian local time: the one place that turns UTC into Brussels time and back.

Times are stored in UTC and typed and shown in Europe/Brussels. One rule set for every form:
- a local time that does not exist (the spring-forward gap, 02:00–02:59 on the last Sunday of
  March) is refused, never silently moved;
- a local time that happens twice (02:00–02:59 on the last Sunday of October) means the first
  one, still in summer time (fold=0), the reading a person means when they type "02:30";
- an explicit UTC offset is refused: a datetime-local input never sends one;
- only years 2000–2100, so a typo like 0226 is refused rather than stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
INPUT_FORMAT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows
FIRST_YEAR, LAST_YEAR = 2000, 2100

MALFORMED_NL = "Geef een datum en uur (dd/mm/jjjj uu:mm)."
OFFSET_NL = "Geef een datum en uur in Belgische tijd, zonder tijdzone."
OUT_OF_RANGE_NL = f"Kies een jaar tussen {FIRST_YEAR} en {LAST_YEAR}."
GAP_NL = "Dit uur bestaat niet in Belgische tijd (overgang naar zomertijd)."
MONTHS_NL = (
    "januari", "februari", "maart", "april", "mei", "juni",
    "juli", "augustus", "september", "oktober", "november", "december",
)  # fmt: skip


class LocalTimeError(ValueError):
    """A typed local time that the rules refuse; the message is Dutch and meant for the field."""


def to_local(value: datetime) -> datetime:
    """An aware timestamp as Brussels local time."""
    return value.astimezone(BRUSSELS)


def text_nl(value: datetime, with_time: bool = True) -> str:
    """A timestamp as Dutch words in Brussels time: '8 december 2026 om 14:05'."""
    local = to_local(value)
    text = f"{local.day} {MONTHS_NL[local.month - 1]} {local.year}"
    return f"{text} om {local:%H:%M}" if with_time else text


def to_input(value: datetime | None) -> str:
    """A timestamp as a datetime-local value in Brussels time; empty for none."""
    return to_local(value).strftime(INPUT_FORMAT) if value is not None else ""


def exists(naive: datetime) -> bool:
    """Whether a wall-clock time happens in Brussels (False inside the spring-forward gap)."""
    local = naive.replace(tzinfo=BRUSSELS)
    return local.astimezone(UTC).astimezone(BRUSSELS).replace(tzinfo=None) == naive


def is_ambiguous(naive: datetime) -> bool:
    """Whether a wall-clock time happens twice in Brussels (the autumn fall-back hour)."""
    first = naive.replace(tzinfo=BRUSSELS, fold=0).utcoffset()
    second = naive.replace(tzinfo=BRUSSELS, fold=1).utcoffset()
    return exists(naive) and first != second


def from_local(naive: datetime) -> datetime:
    """A Brussels wall-clock time as UTC, under the rules above; LocalTimeError when refused."""
    if naive.tzinfo is not None:
        raise LocalTimeError(OFFSET_NL)
    if not FIRST_YEAR <= naive.year <= LAST_YEAR:
        raise LocalTimeError(OUT_OF_RANGE_NL)
    if not exists(naive):
        raise LocalTimeError(GAP_NL)
    return naive.replace(tzinfo=BRUSSELS, fold=0).astimezone(UTC)


def parse_local(text: str | None) -> datetime | None:
    """A typed datetime-local value as UTC; None when empty; LocalTimeError when refused."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise LocalTimeError(MALFORMED_NL) from None
    return from_local(naive)
