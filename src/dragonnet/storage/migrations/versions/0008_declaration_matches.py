"""declaration matches: case parties the stored resolution run took for a declaration's importer or exporter

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLE = "linkage_declaration_matches"


def _fk(column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    name = op.f(f"fk_{TABLE}_{column}_{ref_table}")
    return sa.ForeignKeyConstraint([column], [target], name=name, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("declaration_id", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("record_key", sa.String(length=64), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        _fk("run_id", "linkage_runs.id"),
        _fk("party_id", "parties.id"),
        _fk("batch_id", "targeting_batches.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE}")),
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for column in ("run_id", "party_id", "batch_id"):
            batch_op.create_index(batch_op.f(f"ix_{TABLE}_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table(TABLE)
