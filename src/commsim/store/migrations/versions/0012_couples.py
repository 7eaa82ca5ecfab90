"""The share of women in union whose partner men's sessions reached, per month. Runs stored before have none
(NULL).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.add_column(sa.Column("partners_engaged", sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.drop_column("partners_engaged")
