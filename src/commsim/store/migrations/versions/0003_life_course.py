"""The women's life course: births, pregnancies and how they end, prevalence and unmet need among married women,
the share in union and pregnant, and the total fertility rate, per month. Runs stored before have none (NULL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COUNTS = (
    "births",
    "pregnancies",
    "unintended_pregnancies",
    "abortions",
    "pregnancy_losses",
    "method_failures",
    "users_left",
)
RATES = ("mcpr_married", "unmet_need_married", "in_union", "pregnant", "tfr")


def upgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in COUNTS:
            batch.add_column(sa.Column(name, sa.BigInteger, nullable=True))
        for name in RATES:
            batch.add_column(sa.Column(name, sa.Float, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("months") as batch:
        for name in COUNTS + RATES:
            batch.drop_column(name)
