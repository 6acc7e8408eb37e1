"""The hot writes: a vote and a new comment, one interface per write, one writer per dialect.

The contract:

- Driver-level SQL lives only here. Nothing outside this package touches a DBAPI connection
  (`driver_connection`); tests and scripts that need one call writes.driver.dbapi().
- Each write has one interface (writes.votes.VoteWriter, writes.posts.PostWriter) and a plain
  path in Core statements beside its fast paths: SQLite's plain SQL on the driver connection
  (votes_sqlite, posts.SqlitePostWriter) and PostgreSQL's one-statement vote
  (votes_postgres). writes.registry lists every writer and chooses one per dialect, once.
- Each fast path is held equal to the plain path by a parity test
  (tests/test_writes_parity.py, over every writer in writes.registry): the same rows, audit
  rows and counters, and for posts what moderation.comment_states.transition() writes.
- Writers only write. The rules (which error, in which order; which state a new comment
  takes) are the callers': polls.voting and moderation.comment_states.
- Column lists are derived once from the model metadata (writes.columns), never typed out.
"""
