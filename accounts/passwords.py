"""Password rules, one place for every way a password is set (registration, /profiel, the CLI).

A password is refused when it is too short or too long, on a list of common passwords
(passwords_data/, with its sources and licences), contains the account's own name or e-mail
local part, or is trivially repetitive or sequential. Pure functions: no database, no Flask.
"""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

from errors import Invalid

PASSWORD_MIN = 10
PASSWORD_MAX = 200
# Names shorter than this are not looked for inside a password: "jo" (from jo@…) would refuse
# half of all passwords. Usernames are at least 3 characters, so every username counts.
PERSONAL_MIN = 3
DISTINCT_MIN = 4  # fewer different characters than this is repetition ("ababababab")

DATA = Path(__file__).parent / "passwords_data"
LIST_FILES = ("common-passwords.txt.gz", "common-passwords.nl.txt")
_EDGE_NOISE = "0123456789!?.,;:-_+*#@$%&/\\()[]{}'\" "
# Runs a sequential password is cut from: digits and letters both ways, keyboard rows (QWERTY
# and the Belgian AZERTY). Repeated so that "7890123456" (wrapping round) is a run too.
_RUNS = tuple(
    run * 3
    for row in (
        "0123456789",
        "abcdefghijklmnopqrstuvwxyz",
        "qwertyuiop",
        "asdfghjkl",
        "zxcvbnm",
        "azertyuiop",
        "qsdfghjklm",
        "wxcvbn",
    )
    for run in (row, row[::-1])
)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Every shipped common password, lower case (read once per process)."""
    words: set[str] = set()
    for name in LIST_FILES:
        path = DATA / name
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as lines:
            words.update(line.strip().lower() for line in lines if line.strip() and line[0] != "#")
    return frozenset(words)


def is_common(password: str) -> bool:
    """On a shipped list, as it is or once digits and punctuation around it are stripped."""
    lowered = password.lower()
    stem = lowered.strip(_EDGE_NOISE)
    words = common_passwords()
    return lowered in words or lowered.strip() in words or (len(stem) >= 3 and stem in words)


def is_trivial(password: str) -> bool:
    """Mostly one or two characters repeated, or a run like 1234567890, abcdef…, azerty…."""
    lowered = password.lower()
    if len(set(lowered)) < DISTINCT_MIN:
        return True
    return any(lowered in run for run in _RUNS)


def personal_parts(username: str = "", email: str = "") -> list[str]:
    """The account's own name and e-mail local part, case-folded, long enough to look for."""
    parts = [username.strip().casefold(), email.strip().partition("@")[0].casefold()]
    return [part for part in parts if len(part) >= PERSONAL_MIN]


def password_problems(password: str, username: str = "", email: str = "") -> list[Invalid]:
    """Every rule the password breaks (most a person can act on first), each with a Dutch
    message for the password field."""
    if len(password) < PASSWORD_MIN:
        return [
            Invalid(
                "password_too_short",
                f"Kies een wachtwoord van minstens {PASSWORD_MIN} tekens.",
                details={"field": "password"},
            )
        ]
    if len(password) > PASSWORD_MAX:
        return [
            Invalid(
                "password_too_long", "Dat wachtwoord is te lang.", details={"field": "password"}
            )
        ]
    problems: list[Invalid] = []
    folded = password.casefold()
    if any(part in folded for part in personal_parts(username, email)):
        problems.append(
            Invalid(
                "password_personal",
                "Je wachtwoord mag je gebruikersnaam of (het deel voor de @ van) je "
                "e-mailadres niet bevatten.",
                details={"field": "password"},
            )
        )
    if is_trivial(password):
        problems.append(
            Invalid(
                "password_trivial",
                "Dat wachtwoord is te voorspelbaar: het herhaalt tekens of volgt een reeks "
                "(zoals 1234567890 of azerty).",
                details={"field": "password"},
            )
        )
    elif is_common(password):
        problems.append(
            Invalid(
                "password_common",
                "Dat wachtwoord staat op een lijst van veelgebruikte wachtwoorden en is "
                "makkelijk te raden. Kies iets eigens, bv. een zin van een paar woorden.",
                details={"field": "password"},
            )
        )
    return problems


def validate_password(password: str, username: str = "", email: str = "") -> None:
    """Raise the first rule the password breaks (password_problems lists them all)."""
    problems = password_problems(password, username, email)
    if problems:
        raise problems[0]
