"""queue sort indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 05:55:48.324357
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_comments_state_report_score"))
        batch_op.drop_index(batch_op.f("ix_comments_state_top_severity_queued_at"))
        batch_op.create_index(
            "ix_comments_state_author_id_queued_at",
            ["state", "author_id", "queued_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_state_report_score_id", ["state", "report_score", "id"], unique=False
        )
        # Severity sort: highest first, then oldest first (autogenerate skips DESC columns).
        batch_op.create_index(
            "ix_comments_state_severity_queued_at",
            ["state", sa.text("top_severity DESC"), "queued_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_unreviewed_created_at",
            ["created_at"],
            unique=False,
            postgresql_where=sa.text("state = 'published' AND reviewed_at IS NULL"),
            sqlite_where=sa.text("state = 'published' AND reviewed_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_comments_unreviewed_created_at",
            postgresql_where=sa.text("state = 'published' AND reviewed_at IS NULL"),
            sqlite_where=sa.text("state = 'published' AND reviewed_at IS NULL"),
        )
        batch_op.drop_index("ix_comments_state_severity_queued_at")
        batch_op.drop_index("ix_comments_state_report_score_id")
        batch_op.drop_index("ix_comments_state_author_id_queued_at")
        batch_op.create_index(
            batch_op.f("ix_comments_state_top_severity_queued_at"),
            ["state", "top_severity", "queued_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_comments_state_report_score"), ["state", "report_score"], unique=False
        )
