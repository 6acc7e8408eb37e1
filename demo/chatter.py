"""Plausible Dutch football comments for the demo's headlines, put together from the
fragments in data/fragments.tsv and stored with bulk inserts (thousands in well under a second)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from accounts.services import hash_password, username_key
from models import Comment, CommentState, Role, User, utcnow

FRAGMENTS = Path(__file__).resolve().parent / "data" / "fragments.tsv"
# Clubs a headline may name; at one position the longest wins ("Club Brugge" over "Club").
CLUBS = (
    "Club Brugge", "Anderlecht", "Standard", "Union", "Antwerp", "Genk", "Westerlo",
    "STVV", "Lierse", "Real", "Bayern", "Ajax", "Marokko", "Club",
)  # fmt: skip
NO_CLUB = "de ploeg"
# The crowd of demo fans who write these comments; nobody knows their (random) password.
CROWD = (
    "Paars_Wit_Pol", "Rouches_Raf", "Blauwzwart_Bart", "Unionist_Ine", "Kielse_Koen",
    "Limburgse_Leen", "Ketje_Kris", "Sporting_Sam", "Sint_Truidense_Tom", "Lier_Lotte",
    "Westerlo_Wim", "Cercle_Cas", "Buffalo_Bram", "Zebra_Zoe", "Pottenbakker_Piet",
    "Kempense_Kim", "Tribune_Tuur", "Thuisploeg_Theo", "Derbyganger_Dirk", "Kop_van_Jut",
)  # fmt: skip
REPLY_SHARE = 0.3  # about one comment in three answers another


@dataclass(frozen=True)
class Fragments:
    """The parts comments are built from, by kind (see data/fragments.tsv)."""

    open: tuple[str, ...]
    take: tuple[str, ...]
    close: tuple[str, ...]
    short: tuple[str, ...]
    reply: tuple[str, ...]


def read_fragments(path: Path = FRAGMENTS) -> Fragments:
    """The fragments file, by kind."""
    kinds: dict[str, list[str]] = {kind: [] for kind in ("open", "take", "close", "short", "reply")}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            kind, text = line.split("\t", 1)
            kinds[kind].append(text)
    return Fragments(**{kind: tuple(texts) for kind, texts in kinds.items()})


def club_of(headline: str) -> str:
    """The first club a headline names, for the fragments' {ploeg}; "de ploeg" otherwise."""
    found = [(headline.find(club), -len(club), club) for club in CLUBS if club in headline]
    return min(found)[2] if found else NO_CLUB


def comment_text(rng: random.Random, fragments: Fragments, club: str, reply: bool) -> str:
    """One comment: a short cry, or an opening, an opinion and maybe a closing sentence."""
    if rng.random() < 0.2:
        text = rng.choice(fragments.short)
    else:
        parts = [rng.choice(fragments.take)]
        if rng.random() < 0.7:
            parts.insert(0, rng.choice(fragments.open))
        if rng.random() < 0.4:
            parts.append(rng.choice(fragments.close))
        text = " ".join(parts)
    if reply:
        text = f"{rng.choice(fragments.reply)} {text[0].lower()}{text[1:]}"
    text = text.replace("{ploeg}", club)
    return text[0].upper() + text[1:]


def crowd(session: Session, password_method: str) -> list[User]:
    """The demo's commenting fans, created where missing with one hash shared by all of them
    (hashing costs ~80 ms each); `flask tribune set-password NAME` gives one a password."""
    keys = {username_key(name): name for name in CROWD}
    existing = {
        user.username_key: user
        for user in session.scalars(select(User).where(User.username_key.in_(keys)))
    }
    missing = [name for key, name in keys.items() if key not in existing]
    if missing:
        shared = hash_password(random.SystemRandom().randbytes(16).hex(), password_method)
        verified = utcnow()  # demo accounts: the address counts as confirmed
        session.execute(
            insert(User),
            [
                {
                    "username": name,
                    "username_key": username_key(name),
                    "email": f"{name.lower()}@demo.tribune.test",
                    "password_hash": shared,
                    "role": Role.FAN,
                    "email_verified_at": verified,
                }
                for name in missing
            ],
        )
    return list(session.scalars(select(User).where(User.username_key.in_(keys))))


def seed_comments(
    session: Session,
    article_id: int,
    title: str,
    count: int,
    authors: Sequence[User],
    since: datetime,
    now: datetime,
) -> int:
    """Store `count` published comments under one article, about REPLY_SHARE of them replies
    to earlier ones, spread between `since` and `now`; the same article gets the same texts."""
    if count <= 0:
        return 0
    rng = random.Random(f"{title}:{count}")
    fragments = read_fragments()
    club = club_of(title)
    span = max((now - since).total_seconds() - 60, count)
    moments = sorted(since + timedelta(seconds=30 + rng.random() * span) for _ in range(count))
    # The first comment always opens a thread; a reply answers a thread opened before it.
    is_reply = [i > 0 and rng.random() < REPLY_SHARE for i in range(count)]
    tops = [
        {
            "article_id": article_id,
            "author_id": rng.choice(authors).id,
            "depth": 0,
            "body": comment_text(rng, fragments, club, reply=False),
            "state": CommentState.PUBLISHED,
            "created_at": moments[i],
            "updated_at": moments[i],
        }
        for i in range(count)
        if not is_reply[i]
    ]
    top_ids = list(
        session.scalars(insert(Comment).returning(Comment.id, sort_by_parameter_order=True), tops)
    )
    replies = []
    opened = 0  # threads opened so far, in time order
    for i in range(count):
        if not is_reply[i]:
            opened += 1
            continue
        parent = top_ids[rng.randrange(opened)]
        replies.append(
            {
                "article_id": article_id,
                "author_id": rng.choice(authors).id,
                "parent_id": parent,
                "root_id": parent,
                "depth": 1,
                "body": comment_text(rng, fragments, club, reply=True),
                "state": CommentState.PUBLISHED,
                "created_at": moments[i],
                "updated_at": moments[i],
            }
        )
    if replies:
        session.execute(insert(Comment), replies)
    return count
