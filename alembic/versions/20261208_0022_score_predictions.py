"""score predictions: a poll kind with a match and its result, and the members' predictions

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-08 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # polls.kind is a non-native enum without a CHECK constraint (length 16): the new value
    # "score_prediction" needs no schema change.
    with op.batch_alter_table("polls") as batch:
        batch.add_column(sa.Column("home_team", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("away_team", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("competition", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("result_home_goals", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("result_away_goals", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("exact_points", sa.SmallInteger(), nullable=True))
        batch.add_column(sa.Column("outcome_points", sa.SmallInteger(), nullable=True))
    op.create_index(op.f("ix_polls_competition"), "polls", ["competition"], unique=False)
    op.create_table(
        "score_predictions",
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("home_goals", sa.SmallInteger(), nullable=False),
        sa.Column("away_goals", sa.SmallInteger(), nullable=False),
        sa.Column("points", sa.SmallInteger(), nullable=True),
        sa.CheckConstraint(
            "home_goals BETWEEN 0 AND 20", name=op.f("ck_score_predictions_home_goals")
        ),
        sa.CheckConstraint(
            "away_goals BETWEEN 0 AND 20", name=op.f("ck_score_predictions_away_goals")
        ),
        sa.ForeignKeyConstraint(
            ["ballot_id"],
            ["ballots.id"],
            name=op.f("fk_score_predictions_ballot_id_ballots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("ballot_id", name=op.f("pk_score_predictions")),
    )


def downgrade() -> None:
    op.drop_table("score_predictions")
    op.drop_index(op.f("ix_polls_competition"), table_name="polls")
    with op.batch_alter_table("polls") as batch:
        batch.drop_column("outcome_points")
        batch.drop_column("exact_points")
        batch.drop_column("resolved_at")
        batch.drop_column("result_away_goals")
        batch.drop_column("result_home_goals")
        batch.drop_column("competition")
        batch.drop_column("away_team")
        batch.drop_column("home_team")
