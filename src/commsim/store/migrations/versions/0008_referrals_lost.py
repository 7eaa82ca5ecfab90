"""Group referrals lost on their way to the CHW and facility, per month (the shared record keeps them). Runs stored
before have none (NULL).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.add_column(sa.Column("referrals_lost", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.drop_column("referrals_lost")
