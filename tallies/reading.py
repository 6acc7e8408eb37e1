"""Batched tally reads: one indexed query (articles.cms_id is unique) or a cache hit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from caching import TallyCache
from models import Article


class Tally(NamedTuple):
    comments: int
    votes: int


ZERO = Tally(0, 0)


_ARTICLES = Article.__table__
# Built once; Core rather than ORM execution: this is the hottest read path.
TALLY_QUERY = select(_ARTICLES.c.cms_id, _ARTICLES.c.comment_count, _ARTICLES.c.vote_count).where(
    _ARTICLES.c.cms_id.in_(bindparam("ids", expanding=True))
)


def read_tallies(session: Session, ids: Sequence[str]) -> dict[str, Tally]:
    """Tallies for these CMS ids, in the given order; unknown ids get zeros.

    One `WHERE cms_id IN (…)` on the unique index: the cost follows the request, not the site.
    """
    rows = session.connection().execute(TALLY_QUERY, {"ids": list(ids)})
    found = {cms_id: Tally(comments, votes) for cms_id, comments, votes in rows}
    return {cms_id: found.get(cms_id, ZERO) for cms_id in ids}


def tallies_json(tallies: dict[str, Tally]) -> bytes:
    """The API body: `{"a": {"comments": n, "votes": n}, …}`, compact and byte-stable."""
    return json.dumps(
        {key: {"comments": t.comments, "votes": t.votes} for key, t in tallies.items()},
        separators=(",", ":"),
    ).encode()


def strong_etag(body: bytes) -> str:
    """A strong validator: same bytes, same tag."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


@dataclass(frozen=True)
class TallySnapshot:
    """The tallies of one set of ids as sent on the wire."""

    body: bytes
    etag: str

    def tallies(self) -> dict[str, Tally]:
        """The tallies back as values (for HTML rendering)."""
        return {
            key: Tally(value["comments"], value["votes"])
            for key, value in json.loads(self.body).items()
        }


def load_snapshot(
    ids: Sequence[str], cache: TallyCache, session: Callable[[], Session]
) -> TallySnapshot:
    """Tallies for sorted, deduplicated ids: from the cache, else one query (then cached).

    `session` is called only on a miss, so a cache hit opens no database connection.
    """
    body = cache.get(ids)
    if body is None:
        body = tallies_json(read_tallies(session(), ids))
        cache.put(ids, body)
    return TallySnapshot(body, strong_etag(body))
