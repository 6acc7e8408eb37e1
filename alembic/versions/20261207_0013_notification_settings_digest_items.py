"""notification_settings, digest_items, notification_clocks

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = ("reply", "decision", "report", "appeal", "suspension", "queue_alert")


def _delivery(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.Enum("immediate", "daily", "never", name="delivery", native_enum=False, length=10),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "notification_settings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        *(_delivery(kind) for kind in KINDS),
        sa.Column("unsubscribe_key", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_notification_settings")),
    )
    op.create_table(
        "digest_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(*KINDS, name="notificationkind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("article_title", sa.String(length=300), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_digest_items_article_id_articles"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_digest_items_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_items")),
    )
    op.create_index(op.f("ix_digest_items_created_at"), "digest_items", ["created_at"])
    op.create_index("ix_digest_items_user_id_created_at", "digest_items", ["user_id", "created_at"])
    op.create_table(
        "notification_clocks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notification_clocks")),
    )


def downgrade() -> None:
    op.drop_table("notification_clocks")
    op.drop_index("ix_digest_items_user_id_created_at", table_name="digest_items")
    op.drop_index(op.f("ix_digest_items_created_at"), table_name="digest_items")
    op.drop_table("digest_items")
    op.drop_table("notification_settings")
