"""Alembic helpers: the project's migration config, upgrading a database, what checks compare."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent

# Indexes with a DESC column: SQLite's reflection drops the direction, so comparing them would
# report a difference that is not there. Their revision creates them by hand.
UNCOMPARED_INDEXES = frozenset({"ix_comments_state_severity_queued_at"})


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
    """Alembic filter: leave the hand-written DESC indexes out of autogenerate and checks."""
    return not (type_ == "index" and name in UNCOMPARED_INDEXES)
