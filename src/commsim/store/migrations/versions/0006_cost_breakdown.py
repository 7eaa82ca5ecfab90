"""The month's cost by category: commodities and their supply chain, provider time, the CHW programme,
supervision and transport, the group programme and supply support (they add up to cost_month). Runs stored
before have none (NULL).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

CATEGORIES = (
    "cost_commodities",
    "cost_provider_time",
    "cost_chw_programme",
    "cost_supervision_transport",
    "cost_group_programme",
    "cost_supply_support",
)


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in CATEGORIES:
            batch.add_column(sa.Column(name, sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in CATEGORIES:
            batch.drop_column(name)
