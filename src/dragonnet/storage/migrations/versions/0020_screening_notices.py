"""screening notices: a screening's hit on a record the screener may not see, and the requests that reveal it

`screening_notices` holds "agency X holds a record matching row N of your list" (hit / no hit) with the row's data
as the screener submitted it (its own input, for the owner to judge a request). A notice is the screener's
agency's: the same row matched to the same record again keeps its number (`row_key`, a digest of the row's data).
`linkage_disclosure_requests` gains `screening_notice_id`: the request machinery of the match notices, reused; a
request on a screening notice has no requesting party (`requester_party_id` NULL).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

NOTICES = "screening_notices"
REQUESTS = "linkage_disclosure_requests"


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"),
                                   ondelete=ondelete)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        NOTICES,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("requester_agency_id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("owner_party_id", sa.Integer(), nullable=False),
        sa.Column("owner_case_id", sa.Integer(), nullable=False),
        sa.Column("row_key", sa.String(length=64), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=False),
        sa.Column("row_data", sa.JSON(), nullable=False),
        sa.Column("list_name", sa.String(length=255), nullable=False),
        sa.Column("found_by_id", sa.Integer(), nullable=True),
        sa.Column("first_found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_found_at", sa.DateTime(timezone=True), nullable=False),
        _fk(NOTICES, "operation_id", "operations.id", "CASCADE"),
        _fk(NOTICES, "requester_agency_id", "agencies.id"),
        _fk(NOTICES, "owner_agency_id", "agencies.id"),
        _fk(NOTICES, "owner_party_id", "parties.id", "CASCADE"),
        _fk(NOTICES, "owner_case_id", "cases.id", "CASCADE"),
        _fk(NOTICES, "found_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{NOTICES}")),
        sa.UniqueConstraint(
            "requester_agency_id", "owner_party_id", "row_key", name=op.f(f"uq_{NOTICES}_requester_agency_id")
        ),
    )
    with op.batch_alter_table(NOTICES, schema=None) as batch_op:
        for column in ("operation_id", "requester_agency_id", "owner_agency_id", "owner_party_id", "owner_case_id"):
            batch_op.create_index(batch_op.f(f"ix_{NOTICES}_{column}"), [column], unique=False)
    with op.batch_alter_table(REQUESTS, schema=None) as batch_op:
        batch_op.add_column(sa.Column("screening_notice_id", sa.Integer(), nullable=True))
        batch_op.alter_column("requester_party_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f(f"fk_{REQUESTS}_screening_notice_id_{NOTICES}"), NOTICES,
                                    ["screening_notice_id"], ["id"], ondelete="SET NULL")  # fmt: skip
        batch_op.create_index(batch_op.f(f"ix_{REQUESTS}_screening_notice_id"), ["screening_notice_id"], unique=False)


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM linkage_disclosure_requests WHERE requester_party_id IS NULL"))
    with op.batch_alter_table(REQUESTS, schema=None) as batch_op:
        batch_op.drop_index(batch_op.f(f"ix_{REQUESTS}_screening_notice_id"))
        batch_op.drop_constraint(batch_op.f(f"fk_{REQUESTS}_screening_notice_id_{NOTICES}"), type_="foreignkey")
        batch_op.drop_column("screening_notice_id")
        batch_op.alter_column("requester_party_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table(NOTICES)
