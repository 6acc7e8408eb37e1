"""CSV exports for editors: ';'-separated, UTF-8 with BOM (Belgian Excel), formulas neutralised.

Ballot rows carry the time, the chosen options and the voter type only: no user id, no IP hash,
no voter key (no personal data leaves through an export).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from brussels import to_local
from models import Ballot, Poll
from polls.results import ballot_stats, poll_results

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SUSPICION_NL = {"ip_allowance": "veel stemmen van één IP", "burst": "piek nieuwe stemmers"}


def neutralise(value: object) -> str:
    """A cell Excel will not run as a formula: a leading = + - @ (or tab/CR) gets an apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv(rows: Iterable[Iterable[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
    return BOM + buffer.getvalue()


def results_csv(session: Session, poll: Poll) -> str:
    """The aggregate stand: all votes and logged-in fans only, per option."""
    everyone = poll_results(session, poll)
    members = poll_results(session, poll, members_only=True)
    stats = ballot_stats(session, poll)
    rows: list[list[object]] = [
        ["vraag", poll.question],
        [
            "antwoord",
            "stemmen",
            "percentage",
            "stemmen aangemelde fans",
            "percentage aangemelde fans",
        ],
    ]
    for option, member in zip(everyone.options, members.options, strict=True):
        rows.append([option.label, option.votes, option.percent, member.votes, member.percent])
    rows.extend(
        [
            ["totaal (getelde stemmen)", everyone.total, "", members.total, ""],
            ["aangemeld", stats.members],
            ["anoniem", stats.anonymous],
            ["verdacht (niet in quarantaine)", stats.suspicious],
            ["in quarantaine", stats.quarantined],
        ]
    )
    return _csv(rows)


def _ballot_rows(session: Session, poll: Poll) -> Iterator[list[object]]:
    labels = {o.id: o.label for o in poll.options}
    yield ["tijdstip (Brussel)", "antwoorden", "type stemmer", "verdacht", "quarantaine"]
    last_id = 0
    while True:  # keyset pages keep memory flat on big polls
        batch = list(
            session.scalars(
                select(Ballot)
                .where(Ballot.poll_id == poll.id, Ballot.id > last_id)
                .options(selectinload(Ballot.choices))
                .order_by(Ballot.id)
                .limit(1000)
            )
        )
        if not batch:
            return
        for ballot in batch:
            chosen = sorted(c.option_id for c in ballot.choices)
            yield [
                to_local(ballot.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                " | ".join(labels.get(i, "?") for i in chosen),
                "aangemeld"
                if ballot.user_id is not None or ballot.voter_key.startswith("u:")
                else "anoniem",
                SUSPICION_NL.get(ballot.suspicion or "", "") if ballot.is_suspicious else "",
                "ja" if ballot.quarantined_at else "nee",
            ]
        last_id = batch[-1].id


def ballots_csv(session: Session, poll: Poll) -> str:
    """One row per ballot: time, options, voter type; no personal data."""
    return _csv(_ballot_rows(session, poll))
