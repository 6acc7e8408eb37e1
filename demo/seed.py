"""Fill an empty database with the demo; running it again changes nothing."""

from __future__ import annotations

import csv
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

import events
from accounts.passwords import password_problems
from accounts.services import Registration, register_user, username_key
from demo import chatter
from models import (
    Article,
    Ballot,
    BallotChoice,
    Comment,
    CommentMode,
    CommentState,
    Poll,
    PollOption,
    Role,
    User,
    utcnow,
)
from tallies.recount import recount

DATA = Path(__file__).resolve().parent / "data"
DEFOUR_ID = "defour-volgend-jaar-nog-bij-kv-mechelen"
POLL_QUESTION = "Moet KVM verder doen met Defour?"
POLL_OPTIONS = ("Ja", "Nee", "Weet niet")
# Demo ballots per option, so the tallies show real rows.
DEMO_BALLOTS = (58, 21, 9)
DEMO_ACCOUNTS = (
    ("fan", Role.FAN),
    ("moderator", Role.MODERATOR),
    ("redacteur", Role.EDITOR),
    ("beheerder", Role.ADMIN),
)
COMMENTERS = ("Maneblusser", "GeelRood04", "Sinjoor_Jef", "Brugse_Pieter", "Limburg_Lies")


@dataclass(frozen=True)
class SeedReport:
    created_accounts: list[tuple[str, str, str]]  # (username, role, password)
    articles_created: int
    comments_created: int
    ballots_created: int


def slugify(text: str, max_length: int = 64) -> str:
    """A CMS-style id from a headline: lowercase ASCII words joined by dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "artikel"


def read_headlines() -> list[dict[str, str]]:
    """The 25 Meest recent headlines with teasers, in page order."""
    with (DATA / "meest-recent.tsv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def read_defour() -> tuple[str, str]:
    """Title and body of the seed article (the byline lines dropped)."""
    lines = (DATA / "defour-article.txt").read_text(encoding="utf-8").splitlines()
    title = lines[0].strip()
    body_lines = [line for line in lines[1:] if line.strip() not in ("door", title)]
    body = "\n".join(body_lines).strip()
    return title, re.sub(r"\n{3,}", "\n\n", body)


def demo_password(name: str, email: str) -> str:
    """A random password that keeps the password rules (a random one nearly always does)."""
    while True:
        password = secrets.token_urlsafe(9)
        if not password_problems(password, name, email):
            return password


def _account(
    session: Session, name: str, role: Role, method: str, report: list[tuple[str, str, str]]
) -> User:
    user = session.scalar(select(User).where(User.username_key == username_key(name)))
    if user is not None:
        return user
    email = f"{name.lower()}@demo.tribune.test"
    password = demo_password(name, email)
    user = register_user(session, Registration(name, email, password), method, role, verified=True)
    report.append((name, role.value, password))
    return user


def _article(session: Session, cms_id: str, **fields: object) -> tuple[Article, bool]:
    article = session.scalar(select(Article).where(Article.cms_id == cms_id))
    if article is not None:
        return article, False
    article = Article(cms_id=cms_id, comment_mode=CommentMode.OPEN, **fields)
    session.add(article)
    session.flush()
    return article, True


@dataclass(frozen=True)
class HeadlinePoll:
    position: int  # the headline's row in meest-recent.tsv, 1 = first
    question: str
    options: tuple[str, ...]
    ballots: tuple[int, ...]


def read_headline_polls() -> list[HeadlinePoll]:
    """The polls under some headlines, with their demo ballots per option."""
    polls = []
    for line in (DATA / "polls.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            position, question, options, ballots = line.split("\t")
            polls.append(
                HeadlinePoll(
                    int(position),
                    question,
                    tuple(options.split("|")),
                    tuple(int(n) for n in ballots.split("|")),
                )
            )
    return polls


def _headline_polls(session: Session, headlines: list[Article], now: datetime) -> int:
    """A poll with demo ballots under the headlines polls.tsv names, where none is yet;
    the ballots bulk-inserted (a few thousand), spread over the time since the headline."""
    created = 0
    for spec in read_headline_polls():
        article = headlines[spec.position - 1]
        if session.scalar(select(Poll.id).where(Poll.article_id == article.id).limit(1)):
            continue
        opened = article.published_at or now
        poll = Poll(article_id=article.id, question=spec.question, opens_at=opened)
        poll.options = [PollOption(position=i, label=label) for i, label in enumerate(spec.options)]
        session.add(poll)
        session.flush()
        span = max((now - opened).total_seconds(), 1.0)
        rows = [
            (option.id, opened + timedelta(seconds=span * (n + 0.5) / count))
            for option, count in zip(poll.options, spec.ballots, strict=True)
            for n in range(count)
        ]
        ids = session.scalars(
            insert(Ballot).returning(Ballot.id, sort_by_parameter_order=True),
            [
                {"poll_id": poll.id, "voter_key": f"demo:{poll.id}:{number}", "created_at": at}
                for number, (_, at) in enumerate(rows)
            ],
        ).all()
        session.execute(
            insert(BallotChoice),
            [
                {"ballot_id": ballot_id, "option_id": option_id}
                for ballot_id, (option_id, _) in zip(ids, rows, strict=True)
            ],
        )
        created += len(rows)
    return created


def seed_demo(session: Session, password_method: str, now: datetime | None = None) -> SeedReport:
    """Create whatever part of the demo is missing; flush, do not commit. Demo history tells
    nobody: no mail, no webhook (domain events are muted)."""
    with events.muted():
        return _seed_demo(session, password_method, now)


def _seed_demo(session: Session, password_method: str, now: datetime | None) -> SeedReport:
    now = now or utcnow()
    created: list[tuple[str, str, str]] = []
    accounts = {
        name: _account(session, name, role, password_method, created)
        for name, role in DEMO_ACCOUNTS
    }
    commenters = [_account(session, name, Role.FAN, password_method, []) for name in COMMENTERS]
    del accounts

    articles_created = 0
    headlines: list[tuple[Article, int]] = []  # each with the count its seed page shows
    for position, row in enumerate(read_headlines()):
        headline, new = _article(
            session,
            slugify(row["headline"]),
            title=row["headline"].strip(),
            teaser=row["teaser"].strip(),
            url=None,
            published_at=now - timedelta(minutes=12 + 23 * position),
        )
        articles_created += new
        headlines.append((headline, int(row["comments_shown"])))

    title, body = read_defour()
    defour, new = _article(
        session,
        DEFOUR_ID,
        title=title,
        body=body,
        teaser=body.split("\n")[0][:280],
        published_at=now - timedelta(hours=14),
    )
    articles_created += new

    poll = session.scalar(select(Poll).where(Poll.article_id == defour.id))
    if poll is None:
        poll = Poll(
            article_id=defour.id, question=POLL_QUESTION, opens_at=now - timedelta(hours=14)
        )
        poll.options = [PollOption(position=i, label=label) for i, label in enumerate(POLL_OPTIONS)]
        session.add(poll)
        session.flush()

    ballots_created = 0
    if not session.scalar(select(func.count()).where(Ballot.poll_id == poll.id)):
        number = 0
        for option, count in zip(poll.options, DEMO_BALLOTS, strict=True):
            for _ in range(count):
                number += 1
                ballot = Ballot(
                    poll_id=poll.id,
                    voter_key=f"demo:{number}",
                    created_at=now - timedelta(minutes=3 * number),
                )
                ballot.choices = [BallotChoice(option_id=option.id)]
                session.add(ballot)
        ballots_created = number

    comments_created = 0
    if not session.scalar(select(func.count()).where(Comment.article_id == defour.id)):
        by_name = {user.username: user for user in commenters}
        by_line: dict[int, Comment] = {}
        lines = [
            line.split("\t")
            for line in (DATA / "comments.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")
        ]
        for number, (author, reply_to, text) in enumerate(lines, start=1):
            parent = by_line.get(int(reply_to))
            comment = Comment(
                article_id=defour.id,
                author_id=by_name[author].id,
                parent_id=parent.id if parent else None,
                root_id=(parent.root_id or parent.id) if parent else None,
                depth=parent.depth + 1 if parent else 0,
                body=text,
                state=CommentState.PUBLISHED,
                created_at=now - timedelta(hours=13) + timedelta(minutes=17 * number),
            )
            session.add(comment)
            session.flush()
            by_line[number] = comment
            comments_created += 1

    # The headlines' comments, as many as the seed page shows beside each; an article that
    # has comments already is left alone, so a second run adds none.
    crowd = chatter.crowd(session, password_method) + commenters
    have_comments = set(
        session.scalars(
            select(Comment.article_id)
            .where(Comment.article_id.in_([a.id for a, _ in headlines]))
            .distinct()
        )
    )
    for headline, shown in headlines:
        if headline.id not in have_comments and headline.published_at is not None:
            comments_created += chatter.seed_comments(
                session, headline.id, headline.title, shown, crowd, headline.published_at, now
            )

    ballots_created += _headline_polls(session, [article for article, _ in headlines], now)

    # Demo rows were inserted directly: bring every counter in line with them.
    recount(session)
    return SeedReport(created, articles_created, comments_created, ballots_created)
