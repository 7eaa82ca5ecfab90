"""The share of women in union whose partner opposes family planning, and the villages whose leaders back or oppose
it, per month. Runs stored before have none (NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.add_column(sa.Column("partners_opposed", sa.Float, nullable=True))
        batch.add_column(sa.Column("leaders_supportive", sa.BigInteger, nullable=True))
        batch.add_column(sa.Column("leaders_hostile", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.drop_column("leaders_hostile")
        batch.drop_column("leaders_supportive")
        batch.drop_column("partners_opposed")
