"""notices (DSA notice-and-action)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GROUNDS = (
    "racisme",
    "negationisme",
    "bedreiging",
    "privacy",
    "auteursrecht",
    "kindermisbruik",
    "andere",
)


def upgrade() -> None:
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column(
            "ground",
            sa.Enum(*GROUNDS, name="noticeground", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("notifier_name", sa.String(length=200), nullable=True),
        sa.Column("notifier_email", sa.String(length=254), nullable=True),
        sa.Column("notifier_user_id", sa.Integer(), nullable=True),
        sa.Column("good_faith", sa.Boolean(), nullable=False),
        sa.Column(
            "state",
            sa.Enum("open", "decided", name="noticestate", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "decision",
            sa.Enum("removed", "no_action", name="noticedecision", native_enum=False, length=16),
            nullable=True,
        ),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("automated", sa.Boolean(), nullable=False),
        sa.Column("decision_note", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_notices_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_notices_decided_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["notifier_user_id"],
            ["users.id"],
            name=op.f("fk_notices_notifier_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
    )
    op.create_index("ix_notices_comment_id", "notices", ["comment_id"])
    op.create_index("ix_notices_notifier_user_id", "notices", ["notifier_user_id"])
    op.create_index("ix_notices_state_created_at", "notices", ["state", "created_at"])
    op.create_index("ix_notices_decided_at", "notices", ["decided_at"])
    op.create_index("ix_notices_created_at", "notices", ["created_at"])


def downgrade() -> None:
    op.drop_table("notices")
