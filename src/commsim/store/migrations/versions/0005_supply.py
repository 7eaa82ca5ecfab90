"""Supply per method: switches, CHW kits and facilities out of each method per month, and the service statistics
facilities record (per facility, month, element and method). Runs stored before have none (NULL, no rows).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

METHODS = ("pill", "injectable", "self_injection", "implant", "iud", "condom")
COUNTS = ("switches", "chw_stockouts", *(f"stockouts_{m}" for m in METHODS))


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=True))
    op.create_table(
        "service_statistics",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("month", sa.Integer, primary_key=True),
        sa.Column("facility", sa.Integer, primary_key=True),
        sa.Column("element", sa.String(32), primary_key=True),
        sa.Column("method", sa.String(16), primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("service_statistics")
    with op.batch_alter_table("months") as batch:
        for name in COUNTS:
            batch.drop_column(name)
