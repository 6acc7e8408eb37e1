"""reactions: one "Sterk" per reader per comment, its counter, and an article's default sort

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_reactions_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reactions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reactions")),
        sa.UniqueConstraint(
            "comment_id", "user_id", name=op.f("uq_reactions_comment_id_user_id")
        ),
    )
    op.create_index("ix_reactions_user_id", "reactions", ["user_id"])
    with op.batch_alter_table("comments") as batch:
        batch.add_column(
            sa.Column("reaction_count", sa.Integer(), server_default="0", nullable=False)
        )
    with op.batch_alter_table("articles") as batch:
        batch.add_column(
            sa.Column(
                "default_sort",
                sa.Enum(
                    "newest", "oldest", "best", name="threadsort", native_enum=False, length=16
                ),
                server_default="newest",
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("default_sort")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("reaction_count")
    op.drop_index("ix_reactions_user_id", table_name="reactions")
    op.drop_table("reactions")
