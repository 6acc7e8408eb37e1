"""notice complaints: the notifier's complaint against "no action" (DSA art. 20)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 19:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.add_column(sa.Column("complaint_key", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column(
                "complaint_state",
                sa.Enum(
                    "pending",
                    "upheld",
                    "denied",
                    name="complaintstate",
                    native_enum=False,
                    length=16,
                ),
                nullable=True,
            )
        )
        batch.add_column(sa.Column("complaint_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("complaint_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("complaint_decided_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.add_column(sa.Column("complaint_decided_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("complaint_note", sa.String(length=1000), nullable=True))
        batch.create_foreign_key(
            batch.f("fk_notices_complaint_decided_by_id_users"),
            "users",
            ["complaint_decided_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index(
            "ix_notices_complaint_state_complaint_at", ["complaint_state", "complaint_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("notices") as batch:
        batch.drop_index("ix_notices_complaint_state_complaint_at")
        batch.drop_constraint(
            batch.f("fk_notices_complaint_decided_by_id_users"), type_="foreignkey"
        )
        for column in (
            "complaint_note",
            "complaint_decided_by_id",
            "complaint_decided_at",
            "complaint_at",
            "complaint_body",
            "complaint_state",
            "complaint_key",
        ):
            batch.drop_column(column)
