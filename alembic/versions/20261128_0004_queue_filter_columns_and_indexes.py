"""queue filter columns and indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:21:47.018090
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("top_reason", sa.String(length=20), nullable=True))
        batch_op.create_index(
            "ix_comments_state_article_id_queued_at",
            ["state", "article_id", "queued_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_state_report_score", ["state", "report_score"], unique=False
        )
        batch_op.create_index(
            "ix_comments_state_reviewed_at_created_at",
            ["state", "reviewed_at", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_state_top_reason_queued_at",
            ["state", "top_reason", "queued_at"],
            unique=False,
        )
        batch_op.create_index(
            "ix_comments_state_top_severity_queued_at",
            ["state", "top_severity", "queued_at"],
            unique=False,
        )
        batch_op.create_index("ix_comments_state_updated_at", ["state", "updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_index("ix_comments_state_updated_at")
        batch_op.drop_index("ix_comments_state_top_severity_queued_at")
        batch_op.drop_index("ix_comments_state_top_reason_queued_at")
        batch_op.drop_index("ix_comments_state_reviewed_at_created_at")
        batch_op.drop_index("ix_comments_state_report_score")
        batch_op.drop_index("ix_comments_state_article_id_queued_at")
        batch_op.drop_column("top_reason")
