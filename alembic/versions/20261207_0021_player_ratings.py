"""player ratings: a poll kind, its line-up with per-player counters, and the ratings

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 23:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCORE_COLUMNS = [f"score_{score}" for score in range(1, 11)]


def upgrade() -> None:
    with op.batch_alter_table("polls") as batch:
        batch.add_column(
            sa.Column(
                "kind",
                sa.Enum(
                    "choice",
                    "player_ratings",
                    name="pollkind",
                    native_enum=False,
                    length=16,
                ),
                server_default="choice",
                nullable=False,
            )
        )
    op.create_table(
        "poll_players",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("poll_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("shirt_number", sa.Integer(), nullable=True),
        sa.Column(
            "role",
            sa.Enum(
                "starter",
                "substitute",
                "coach",
                name="playerrole",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("rating_count", sa.Integer(), nullable=False),
        sa.Column("rating_sum", sa.Integer(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in SCORE_COLUMNS],
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["polls.id"],
            name=op.f("fk_poll_players_poll_id_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_players")),
        sa.UniqueConstraint("poll_id", "position", name=op.f("uq_poll_players_poll_id_position")),
    )
    op.create_table(
        "player_ratings",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("player_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 10", name=op.f("ck_player_ratings_score")),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_player_ratings_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["player_id"],
            ["poll_players.id"],
            name=op.f("fk_player_ratings_player_id_poll_players"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ballot_id", "player_id", name=op.f("pk_player_ratings")),
    )
    op.create_index(
        op.f("ix_player_ratings_player_id"), "player_ratings", ["player_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_player_ratings_player_id"), table_name="player_ratings")
    op.drop_table("player_ratings")
    op.drop_table("poll_players")
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("kind")
