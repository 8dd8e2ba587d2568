"""everyday work: an alert's result says what was found; each import remembers its cases

- `alert_recipients` gets what the answering agency found (class of goods, what, how much, seizure date), shown
  with the alert to its sender and recipients under the alert's sharing level.
- `case_imports` and `case_import_cases`: each written import and the cases it created, updated or found
  unchanged, so that the link after an import lists just those.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alert_recipients") as batch:
        batch.add_column(sa.Column("result_commodity", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("result_goods", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("result_quantity", sa.Float(), nullable=True))
        batch.add_column(sa.Column("result_unit", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("result_seizure_date", sa.Date(), nullable=True))
    op.create_table(
        "case_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cases_created", sa.Integer(), nullable=False),
        sa.Column("cases_updated", sa.Integer(), nullable=False),
        sa.Column("cases_unchanged", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["operation_id"], ["operations.id"], name=op.f("fk_case_imports_operation_id_operations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_case_imports_agency_id_agencies")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_case_imports_user_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_imports")),
    )  # fmt: skip
    op.create_index(op.f("ix_case_imports_operation_id"), "case_imports", ["operation_id"], unique=False)
    op.create_table(
        "case_import_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["case_imports.id"],
                                name=op.f("fk_case_import_cases_import_id_case_imports"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_case_import_cases_case_id_cases"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_import_cases")),
        sa.UniqueConstraint("import_id", "case_id", name=op.f("uq_case_import_cases_import_id")),
    )  # fmt: skip
    op.create_index(op.f("ix_case_import_cases_case_id"), "case_import_cases", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_import_cases_case_id"), table_name="case_import_cases")
    op.drop_table("case_import_cases")
    op.drop_index(op.f("ix_case_imports_operation_id"), table_name="case_imports")
    op.drop_table("case_imports")
    with op.batch_alter_table("alert_recipients") as batch:
        for column in ("result_seizure_date", "result_unit", "result_quantity", "result_goods", "result_commodity"):
            batch.drop_column(column)
