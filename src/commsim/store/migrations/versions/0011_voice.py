"""Members' bad service experiences their groups reported, and the facilities whose managers acted on advocacy, per
month. Runs stored before have none (NULL).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.add_column(sa.Column("experiences_reported", sa.Float, nullable=True))
        batch.add_column(sa.Column("advocacy_heard", sa.BigInteger, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        batch.drop_column("advocacy_heard")
        batch.drop_column("experiences_reported")
