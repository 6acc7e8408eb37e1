"""api_tokens.scopes and revoked_reason; remember_tokens

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens made before scopes existed keep what they could do then (write articles, polls and
# comments: there was no moderation API), so a running CMS does not break on upgrade. Their
# owners can replace them with narrower ones on /profiel.
EXISTING_TOKEN_SCOPES = "articles:write polls:write comments:write"


def upgrade() -> None:
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=16), nullable=True))
    op.execute(
        sa.text("UPDATE api_tokens SET scopes = :scopes").bindparams(scopes=EXISTING_TOKEN_SCOPES)
    )
    op.execute(
        sa.text("UPDATE api_tokens SET revoked_reason = 'owner' WHERE revoked_at IS NOT NULL")
    )
    op.create_table(
        "remember_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("session_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_remember_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remember_tokens")),
    )
    op.create_index(
        op.f("ix_remember_tokens_user_id"), "remember_tokens", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_remember_tokens_user_id"), table_name="remember_tokens")
    op.drop_table("remember_tokens")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("revoked_reason")
        batch_op.drop_column("scopes")
