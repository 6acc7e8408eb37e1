"""Alembic helpers: the project's migration config, upgrading a database, what checks compare."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent

# Indexes with a DESC column: SQLite's reflection drops the direction, so comparing them would
# report a difference that is not there. Their revision creates them by hand.
UNCOMPARED_INDEXES = frozenset({"ix_comments_state_severity_queued_at"})
# References added to existing tables by a plain ADD COLUMN (revision 0020: a batch would copy
# and drop the table, cascading on SQLite): SQLite keeps them inline in the column, where its
# reflection finds neither their name nor ON DELETE. tests/test_picks.py checks them instead.
UNCOMPARED_REFERENCES = frozenset(
    {("comments", "featured_by_id"), ("articles", "pinned_comment_id")}
)


def alembic_config(url: str) -> Config:
    """An Alembic Config for this project's migrations against `url`."""
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "alembic"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision` (Alembic owns the schema)."""
    command.upgrade(alembic_config(url), revision)


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic filter: leave the hand-written DESC indexes and the inline references out of
    autogenerate and checks."""
    if type_ == "foreign_key_constraint":
        table = getattr(getattr(obj, "table", None), "name", None)
        columns = [column.name for column in getattr(obj, "columns", [])]
        return not (len(columns) == 1 and (table, columns[0]) in UNCOMPARED_REFERENCES)
    return not (type_ == "index" and name in UNCOMPARED_INDEXES)
