"""Every writer of the hot writes, and the one each dialect uses (chosen once, then cached).

A writer serves the dialects in its `dialects` (None: any). The chooser takes the first
writer that names the dialect, else the first that serves any; the parity tests
(tests/test_writes_parity.py) run over every writer listed here, so a new one is covered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Dialect

from writes.posts import CorePostWriter, PostWriter, SqlitePostWriter
from writes.votes import VoteWriter
from writes.votes_core import CoreVoteWriter
from writes.votes_postgres import PostgresVoteWriter
from writes.votes_sqlite import SqliteVoteWriter

VOTE_WRITERS: tuple[type[Any], ...] = (SqliteVoteWriter, PostgresVoteWriter, CoreVoteWriter)
POST_WRITERS: tuple[type[Any], ...] = (SqlitePostWriter, CorePostWriter)

_VOTES: dict[str, VoteWriter] = {}
_POSTS: dict[str, PostWriter] = {}


def serves(writer: type[Any], dialect_name: str) -> bool:
    """Whether the writer may run on this dialect."""
    return writer.dialects is None or dialect_name in writer.dialects


def _choose(writers: Sequence[type[Any]], dialect: Dialect) -> Any:
    own = [w for w in writers if w.dialects is not None and dialect.name in w.dialects]
    plain = [w for w in writers if w.dialects is None]
    return (own or plain)[0](dialect)


def vote_writer(dialect: Dialect) -> VoteWriter:
    """The vote writer for this dialect (built on first use)."""
    writer = _VOTES.get(dialect.name)
    if writer is None:
        writer = _VOTES[dialect.name] = _choose(VOTE_WRITERS, dialect)
    return writer


def post_writer(dialect: Dialect) -> PostWriter:
    """The post writer for this dialect (built on first use)."""
    writer = _POSTS.get(dialect.name)
    if writer is None:
        writer = _POSTS[dialect.name] = _choose(POST_WRITERS, dialect)
    return writer
