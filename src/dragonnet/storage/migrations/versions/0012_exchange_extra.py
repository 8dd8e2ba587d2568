"""exchange-format columns without a column of their own: cases, items and parties get `extra` (JSON)

A column added to the exchange format (domain/data/exchange_format.yaml) is stored in the `extra` object of its
level (case, item or party) under its name, until it earns a database column of its own.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

TABLES = ("cases", "items", "parties")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("extra", sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("extra")
