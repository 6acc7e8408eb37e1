"""partial queue indexes

Only comments in a queue (queued_at set) are in the queue indexes, only reviewed ones in the
Goedgekeurd index, only replies in the thread index, only unpublished ones in the Afgewezen
index, and only staff actions in the audit log's actor index: a top-level post that publishes
straight away writes none of them.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE_INDEXES = (
    ("ix_comments_state_queued_at", ["state", "queued_at"]),
    ("ix_comments_state_article_id_queued_at", ["state", "article_id", "queued_at"]),
    ("ix_comments_state_top_reason_queued_at", ["state", "top_reason", "queued_at"]),
    ("ix_comments_state_author_id_queued_at", ["state", "author_id", "queued_at"]),
    ("ix_comments_state_report_score_id", ["state", "report_score", "id"]),
    ("ix_comments_state_severity_queued_at", ["state", sa.text("top_severity DESC"), "queued_at"]),
)
REVIEWED = ("ix_comments_state_reviewed_at_created_at", ["state", "reviewed_at", "created_at"])
REPLIES = ("ix_comments_root_id", ["root_id"])
DECIDED = ("ix_comments_state_updated_at", ["state", "updated_at"])
ACTOR = ("ix_moderation_actions_actor_id_created_at", ["actor_id", "created_at"])


def _where(condition: str | None) -> dict[str, object]:
    if condition is None:
        return {}
    return {"postgresql_where": sa.text(condition), "sqlite_where": sa.text(condition)}


def _recreate(partial: bool) -> None:
    def swap(table: str, name: str, columns: list, condition: str) -> None:
        op.drop_index(name, table_name=table)
        op.create_index(
            name, table, columns, unique=False, **_where(condition if partial else None)
        )

    for name, columns in QUEUE_INDEXES:
        swap("comments", name, columns, "queued_at IS NOT NULL")
    swap("comments", *REVIEWED, "reviewed_at IS NOT NULL")
    swap("comments", *REPLIES, "root_id IS NOT NULL")
    swap("comments", *DECIDED, "state <> 'published'")
    swap("moderation_actions", *ACTOR, "actor_id IS NOT NULL")


def upgrade() -> None:
    _recreate(partial=True)


def downgrade() -> None:
    _recreate(partial=False)
