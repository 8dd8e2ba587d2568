"""curation loop and honest values: the review queue, value mappings, case corrections; items' taxon status and
rank, unknown quantities, an index on HS codes

- items.quantity and items.unit become nullable: a seizure whose source holds neither a weight nor a count is
  stored with its quantity explicitly unknown (never a guessed number);
- items.taxon_status (listed / includes listed taxa / not CITES-listed / unverified) and items.taxon_rank;
- ix_items_hs_code (partial: WHERE hs_code IS NOT NULL);
- curation_mappings, curation_values (the review queue) and case_corrections (values corrected by a mapping, shown
  in the case's history).

Revision ID: 0016 (follows 0015)
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.alter_column("quantity", existing_type=sa.Float(), nullable=True)
        batch.alter_column("unit", existing_type=sa.String(length=16), nullable=True)
        batch.add_column(sa.Column("taxon_status", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("taxon_rank", sa.String(length=16), nullable=True))
    where = sa.text("hs_code IS NOT NULL")
    op.create_index("ix_items_hs_code", "items", ["hs_code"], postgresql_where=where, sqlite_where=where)
    op.create_table(
        "curation_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("scope", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("context", sa.String(length=2), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("not_listed", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_by_username", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_curation_mappings_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_curation_mappings_created_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_curation_mappings_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curation_mappings")),
        sa.UniqueConstraint(
            "operation_id", "scope", "kind", "key", "context",
            name=op.f("uq_curation_mappings_operation_id"),
        ),
    )  # fmt: skip
    op.create_table(
        "curation_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("context", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("read_as", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("mapping_id", sa.Integer(), nullable=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_curation_values_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["mapping_id"], ["curation_mappings.id"], name=op.f("fk_curation_values_mapping_id_curation_mappings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_curation_values_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_curation_values")),
        sa.UniqueConstraint(
            "operation_id", "agency_id", "kind", "key", "context",
            name=op.f("uq_curation_values_operation_id"),
        ),
    )  # fmt: skip
    op.create_index(op.f("ix_curation_values_agency_id"), "curation_values", ["agency_id"], unique=False)
    op.create_table(
        "case_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("item_position", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=32), nullable=False),
        sa.Column("old_value", sa.String(length=200), nullable=True),
        sa.Column("new_value", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=True),
        sa.Column("actor_agency", sa.String(length=32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_user_id"], ["users.id"], name=op.f("fk_case_corrections_actor_user_id_users")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_corrections_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_corrections")),
    )
    op.create_index(op.f("ix_case_corrections_case_id"), "case_corrections", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_corrections_case_id"), table_name="case_corrections")
    op.drop_table("case_corrections")
    op.drop_index(op.f("ix_curation_values_agency_id"), table_name="curation_values")
    op.drop_table("curation_values")
    op.drop_table("curation_mappings")
    op.drop_index("ix_items_hs_code", table_name="items")
    op.execute("DELETE FROM items WHERE quantity IS NULL OR unit IS NULL")  # no place for an unknown quantity
    with op.batch_alter_table("items") as batch:
        batch.drop_column("taxon_rank")
        batch.drop_column("taxon_status")
        batch.alter_column("unit", existing_type=sa.String(length=16), nullable=False)
        batch.alter_column("quantity", existing_type=sa.Float(), nullable=False)
