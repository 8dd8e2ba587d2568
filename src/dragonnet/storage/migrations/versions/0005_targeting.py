"""targeting tables

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targeting_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("source_name", sa.String(length=300), nullable=False),
        sa.Column("source_format", sa.String(length=16), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("labelled", sa.Integer(), nullable=False),
        sa.Column("first_date", sa.Date(), nullable=True),
        sa.Column("last_date", sa.Date(), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_targeting_batches_agency_id_agencies")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_batches")),
    )
    op.create_index(op.f("ix_targeting_batches_agency_id"), "targeting_batches", ["agency_id"], unique=False)
    op.create_table(
        "targeting_model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("train_rows", sa.Integer(), nullable=False),
        sa.Column("train_from", sa.Date(), nullable=True),
        sa.Column("train_to", sa.Date(), nullable=True),
        sa.Column("evaluation", sa.JSON(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("booster", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_targeting_model_versions_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_model_versions")),
    )
    op.create_index(
        op.f("ix_targeting_model_versions_agency_id"), "targeting_model_versions", ["agency_id"], unique=False
    )
    op.create_table(
        "targeting_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=True),
        sa.Column("office_locode", sa.String(length=16), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("model_version_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declarations", sa.Integer(), nullable=False),
        sa.Column("red", sa.Integer(), nullable=False),
        sa.Column("yellow", sa.Integer(), nullable=False),
        sa.Column("profiles", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_targeting_lists_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_targeting_lists_operation_id_operations")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["targeting_batches.id"], name=op.f("fk_targeting_lists_batch_id_targeting_batches")
        ),
        sa.ForeignKeyConstraint(
            ["model_version_id"],
            ["targeting_model_versions.id"],
            name=op.f("fk_targeting_lists_model_version_id_targeting_model_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_lists")),
    )
    op.create_index("ix_targeting_lists_agency_office", "targeting_lists", ["agency_id", "office_locode"], unique=False)
    op.create_table(
        "targeting_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("lane", sa.String(length=8), nullable=False),
        sa.Column("random", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rule_score", sa.Float(), nullable=False),
        sa.Column("model_score", sa.Float(), nullable=True),
        sa.Column("declaration_id", sa.String(length=64), nullable=False),
        sa.Column("declaration_date", sa.Date(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("contributions", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_by_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"], ["targeting_lists.id"], name=op.f("fk_targeting_hits_list_id_targeting_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["result_by_id"], ["users.id"], name=op.f("fk_targeting_hits_result_by_id_users")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_targeting_hits_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_hits")),
        sa.UniqueConstraint("list_id", "declaration_id", name=op.f("uq_targeting_hits_list_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_targeting_hits_list_id"), "targeting_hits", ["list_id"], unique=False)
    op.create_index(op.f("ix_targeting_hits_declaration_id"), "targeting_hits", ["declaration_id"], unique=False)


def downgrade() -> None:
    op.drop_table("targeting_hits")
    op.drop_table("targeting_lists")
    op.drop_table("targeting_model_versions")
    op.drop_table("targeting_batches")
