"""The methods: users and new users of each method, CYP of each method's units dispensed and in all, per month.
Runs stored before have none (NULL).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

METHODS = ("pill", "injectable", "self_injection", "implant", "iud", "condom")
COUNTS = tuple(f"users_{m}" for m in METHODS) + tuple(f"new_users_{m}" for m in METHODS)
RATES = (*(f"cyp_{m}" for m in METHODS), "cyp")


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
