"""users.deleted_at, comments.body_erased_at (GDPR self-service and retention)

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-07 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not batches: on SQLite a batch copies and drops the table, and the
    # drop would cascade to every row that references it.
    op.add_column("users", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "comments", sa.Column("body_erased_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("body_erased_at")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deleted_at")
