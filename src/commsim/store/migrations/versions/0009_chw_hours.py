"""CHWs' hours on groups and the CHWs asked for more hours than they have, per month. Runs stored before have none
(NULL).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.add_column(sa.Column("chw_group_hours", sa.Float, nullable=True))
        batch.add_column(sa.Column("overloaded_chws", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.drop_column("overloaded_chws")
        batch.drop_column("chw_group_hours")
