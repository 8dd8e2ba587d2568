"""disclosure control: the site's statistics key, and requests to reveal the other side of a match notice

`site_keys` holds the secret of the cell-key perturbation (dragonnet.policy.cellkey), created here once so that
every process and every later run perturbs a statistic the same way. `linkage_disclosure_requests` holds the
second step of a hit / no-hit match notice: one agency asks, the owner of the other case accepts or declines.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-08
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0013"
branch_labels = None
depends_on = None

REQUESTS = "linkage_disclosure_requests"


def _fk(table: str, column: str, target: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"),
                                   ondelete=ondelete)  # fmt: skip


def upgrade() -> None:
    keys = op.create_table(
        "site_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_site_keys")),
        sa.UniqueConstraint("purpose", name=op.f("uq_site_keys_purpose")),
    )
    op.bulk_insert(
        keys, [{"purpose": "cell-key", "secret": secrets.token_hex(32), "created_at": dt.datetime.now(dt.UTC)}]
    )
    op.create_table(
        REQUESTS,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("match_id", sa.Integer(), nullable=True),
        sa.Column("requester_agency_id", sa.Integer(), nullable=False),
        sa.Column("owner_agency_id", sa.Integer(), nullable=False),
        sa.Column("requester_party_id", sa.Integer(), nullable=False),
        sa.Column("owner_party_id", sa.Integer(), nullable=False),
        sa.Column("owner_case_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        _fk(REQUESTS, "match_id", "linkage_pprl_matches.id", "SET NULL"),
        _fk(REQUESTS, "requester_agency_id", "agencies.id"),
        _fk(REQUESTS, "owner_agency_id", "agencies.id"),
        _fk(REQUESTS, "requester_party_id", "parties.id", "CASCADE"),
        _fk(REQUESTS, "owner_party_id", "parties.id", "CASCADE"),
        _fk(REQUESTS, "owner_case_id", "cases.id", "CASCADE"),
        _fk(REQUESTS, "requested_by_id", "users.id"),
        _fk(REQUESTS, "decided_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{REQUESTS}")),
    )
    with op.batch_alter_table(REQUESTS, schema=None) as batch_op:
        for column in ("match_id", "requester_agency_id", "owner_agency_id", "requester_party_id", "owner_party_id",
                       "owner_case_id"):  # fmt: skip
            batch_op.create_index(batch_op.f(f"ix_{REQUESTS}_{column}"), [column], unique=False)


def downgrade() -> None:
    op.drop_table(REQUESTS)
    op.drop_table("site_keys")
