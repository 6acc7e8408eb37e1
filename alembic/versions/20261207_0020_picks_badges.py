"""editor picks, pins and vote badges: comments.featured_at/featured_by_id,
articles.pinned_comment_id, ballots.show_badge, users.show_vote_badge

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _add_reference(table: str, column: str, target: str, name: str) -> None:
    """A nullable FK column, ON DELETE SET NULL. A plain ADD COLUMN, not a batch: on SQLite a
    batch copies and drops the table, and the drop would cascade to every row that references
    it (SQLite takes the named reference inline; PostgreSQL adds the constraint after)."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            f"ALTER TABLE {table} ADD COLUMN {column} INTEGER"
            f" CONSTRAINT {name} REFERENCES {target} (id) ON DELETE SET NULL"
        )
        return
    op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.create_foreign_key(name, table, target, [column], ["id"], ondelete="SET NULL")


def upgrade() -> None:
    op.add_column("comments", sa.Column("featured_at", sa.DateTime(timezone=True), nullable=True))
    _add_reference("comments", "featured_by_id", "users", "fk_comments_featured_by_id_users")
    op.create_index(
        "ix_comments_article_id_featured_at",
        "comments",
        ["article_id", "featured_at"],
        postgresql_where=sa.text("featured_at IS NOT NULL"),
        sqlite_where=sa.text("featured_at IS NOT NULL"),
    )
    _add_reference(
        "articles", "pinned_comment_id", "comments", "fk_articles_pinned_comment_id_comments"
    )
    op.add_column(
        "ballots",
        sa.Column("show_badge", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_index(
        "ix_ballots_user_id_poll_id",
        "ballots",
        ["user_id", "poll_id"],
        postgresql_where=sa.text("user_id IS NOT NULL"),
        sqlite_where=sa.text("user_id IS NOT NULL"),
    )
    op.add_column(
        "users",
        sa.Column("show_vote_badge", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def _drop_reference(table: str, column: str, name: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table) as batch:  # the inline reference goes with its column
            batch.drop_column(column)
        return
    op.drop_constraint(name, table, type_="foreignkey")
    op.drop_column(table, column)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("show_vote_badge")
    op.drop_index("ix_ballots_user_id_poll_id", table_name="ballots")
    with op.batch_alter_table("ballots") as batch:
        batch.drop_column("show_badge")
    _drop_reference("articles", "pinned_comment_id", "fk_articles_pinned_comment_id_comments")
    op.drop_index("ix_comments_article_id_featured_at", table_name="comments")
    _drop_reference("comments", "featured_by_id", "fk_comments_featured_by_id_users")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("featured_at")
