"""users.last_rejected_at

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 07:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_rejected_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Backfill: the newest rejected or removed comment of each author. A comment is decided
    # after it is created, so this never lies later than the truth (posting relies on that).
    op.execute(
        "UPDATE users SET last_rejected_at = (SELECT max(c.created_at) FROM comments c"
        " WHERE c.author_id = users.id AND c.state IN ('rejected', 'removed'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("last_rejected_at")
