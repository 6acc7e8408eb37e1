"""Column lists of the hot writes, derived once from the model metadata (never typed out)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, cast

from sqlalchemy import Table

from models import Ballot, Comment, Flag, ModerationAction


def table_of(model: type[Any]) -> Table:
    """The model's table, typed as the Table it is (`__table__` is declared a FromClause)."""
    return cast(Table, model.__table__)


def inserted_columns(table: Table, *generated: str) -> tuple[str, ...]:
    """The table's columns in table order, less its id and the columns a writer fills in later."""
    left_out = {"id", *generated}
    return tuple(column.key for column in table.columns if column.key not in left_out)


def columns_named_by(table: Table, record: Any) -> tuple[str, ...]:
    """The table's columns (table order, id excepted) that the dataclass `record` carries."""
    named = {f.name for f in fields(record)}
    return tuple(c.key for c in table.columns if c.key in named and c.key != "id")


COMMENT_COLUMNS = inserted_columns(table_of(Comment))
FLAG_COLUMNS = inserted_columns(table_of(Flag))
AUDIT_COLUMNS = inserted_columns(table_of(ModerationAction))
# show_badge: the voter's badge choice, written after the vote by polls.badges when ticked (a
# new ballot starts hidden: its server default).
BALLOT_COLUMNS = inserted_columns(table_of(Ballot), "show_badge")
