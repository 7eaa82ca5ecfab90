"""Sweeps: a batch's key (the experiment hash a sweep resumes by) and a run's design point, unique per batch.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("batches", sa.Column("key", sa.String(32), nullable=True))
    op.create_index("ix_batches_key", "batches", ["key"])
    op.add_column("runs", sa.Column("point", sa.Integer, nullable=True))
    op.create_index("uq_runs_batch_point_replicate", "runs", ["batch_id", "point", "replicate"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_runs_batch_point_replicate", "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("point")
    op.drop_index("ix_batches_key", "batches")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("key")
