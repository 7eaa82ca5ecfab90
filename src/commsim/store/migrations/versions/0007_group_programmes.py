"""Group programmes: groups in capacity building and the facilitators programmes employ, per month. Runs stored
before have none (NULL).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COUNTS = ("groups_trained", "facilitators")


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in COUNTS:
            batch.drop_column(name)
