"""appeals, match-day windows, ballot suspicion

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 05:20:29.968014
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "match_day_windows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column(
            "mode",
            sa.Enum("premoderate", "slow", name="matchdaymode", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("slow_seconds", sa.Integer(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("label", sa.String(length=120), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_match_day_windows_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_match_day_windows_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_match_day_windows")),
    )
    with op.batch_alter_table("match_day_windows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_match_day_windows_article_id"), ["article_id"], unique=False
        )
        batch_op.create_index("ix_match_day_windows_ends_at", ["ends_at"], unique=False)

    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=1000), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "pending", "upheld", "denied", name="appealstate", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_appeals_author_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_appeals_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_appeals_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_appeals_comment_id")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index("ix_appeals_state_created_at", ["state", "created_at"], unique=False)

    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspicion", sa.String(length=20), nullable=True))

    with op.batch_alter_table("polls", schema=None) as batch_op:
        # Existing polls get "now"; the application sets it from then on.
        batch_op.add_column(
            sa.Column(
                "updated_at",
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.func.now(),
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_column("updated_at")

    with op.batch_alter_table("ballots", schema=None) as batch_op:
        batch_op.drop_column("suspicion")

    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_state_created_at")

    op.drop_table("appeals")
    with op.batch_alter_table("match_day_windows", schema=None) as batch_op:
        batch_op.drop_index("ix_match_day_windows_ends_at")
        batch_op.drop_index(batch_op.f("ix_match_day_windows_article_id"))

    op.drop_table("match_day_windows")
