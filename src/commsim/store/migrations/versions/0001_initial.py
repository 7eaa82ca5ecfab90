"""The first schema: batches (comparisons, sweeps), runs, and one row of outputs per run and month.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Frozen on purpose: the columns are written out, not read from `commsim.model.metrics`, so a later output column
needs a migration of its own (a test checks the migrated schema matches `commsim.store.database.metadata`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("batch_id", sa.Integer, sa.ForeignKey("batches.id"), nullable=True),
        sa.Column("scenario_name", sa.String(200), nullable=False),
        sa.Column("scenario_hash", sa.String(16), nullable=False),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("replicate", sa.Integer, nullable=False),
        sa.Column("backend", sa.String(16), nullable=False),
        sa.Column("households", sa.Integer, nullable=False),
        sa.Column("months", sa.Integer, nullable=False),
        sa.Column("version", sa.String(32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("wall_seconds", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_runs_batch_id", "runs", ["batch_id"])
    op.create_index("ix_runs_scenario_name", "runs", ["scenario_name"])
    op.create_index("ix_runs_scenario_hash", "runs", ["scenario_hash"])
    op.create_table(
        "months",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("mcpr", sa.Float, nullable=False),
        sa.Column("users", sa.BigInteger, nullable=False),
        sa.Column("new_users", sa.BigInteger, nullable=False),
        sa.Column("discontinued", sa.BigInteger, nullable=False),
        sa.Column("facility_visits", sa.BigInteger, nullable=False),
        sa.Column("referrals_made", sa.BigInteger, nullable=False),
        sa.Column("referrals_completed", sa.BigInteger, nullable=False),
        sa.Column("active_groups", sa.BigInteger, nullable=False),
        sa.Column("mean_group_capacity", sa.Float, nullable=False),
        sa.Column("active_chws", sa.BigInteger, nullable=False),
        sa.Column("stockouts", sa.BigInteger, nullable=False),
        sa.Column("mean_trust", sa.Float, nullable=False),
        sa.Column("cost_cumulative", sa.Float, nullable=False),
        sa.Column("mcpr_0_2km", sa.Float, nullable=False),
        sa.Column("mcpr_2_5km", sa.Float, nullable=False),
        sa.Column("mcpr_5_10km", sa.Float, nullable=False),
        sa.Column("mcpr_10km_plus", sa.Float, nullable=False),
        sa.Column("mcpr_q1", sa.Float, nullable=False),
        sa.Column("mcpr_q2", sa.Float, nullable=False),
        sa.Column("mcpr_q3", sa.Float, nullable=False),
        sa.Column("mcpr_q4", sa.Float, nullable=False),
        sa.Column("mcpr_q5", sa.Float, nullable=False),
        sa.Column("unmet_need", sa.Float, nullable=False),
        sa.Column("mean_awareness", sa.Float, nullable=False),
        sa.Column("users_via_chw", sa.BigInteger, nullable=False),
        sa.Column("failed_visits", sa.BigInteger, nullable=False),
        sa.Column("chws_left", sa.BigInteger, nullable=False),
        sa.Column("cost_month", sa.Float, nullable=False),
        sa.Column("ever_users", sa.BigInteger, nullable=False),
        sa.Column("chw_visits", sa.BigInteger, nullable=False),
        sa.Column("new_users_via_chw", sa.BigInteger, nullable=False),
        sa.Column("fp_trained_chws", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("months")
    op.drop_index("ix_runs_scenario_hash", "runs")
    op.drop_index("ix_runs_scenario_name", "runs")
    op.drop_index("ix_runs_batch_id", "runs")
    op.drop_table("runs")
    op.drop_table("batches")
