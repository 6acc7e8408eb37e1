"""queue counters, lexicon entries, site settings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 05:17:29.946093
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_counters",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_queue_counters")),
    )
    op.create_table(
        "site_settings",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_site_settings")),
    )
    op.create_table(
        "lexicon_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "action",
            sa.Enum(
                "add",
                "remove",
                "allow",
                "allow_domain",
                name="lexiconaction",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("word", sa.String(length=100), nullable=False),
        sa.Column("list_name", sa.String(length=20), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_lexicon_entries_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lexicon_entries")),
        sa.UniqueConstraint("action", "word", name=op.f("uq_lexicon_entries_action_word")),
    )


def downgrade() -> None:
    op.drop_table("lexicon_entries")
    op.drop_table("site_settings")
    op.drop_table("queue_counters")
