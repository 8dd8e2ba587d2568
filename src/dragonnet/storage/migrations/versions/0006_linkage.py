"""linkage tables

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _fk(column: str, target: str, table: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{ref_table}"), ondelete=ondelete)


def _index(table: str, *columns: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.create_index(batch_op.f(f"ix_{table}_{column}"), [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "linkage_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope_agency_id", sa.Integer(), nullable=True),
        sa.Column("backend", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("clusters", sa.Integer(), nullable=False),
        sa.Column("model", sa.JSON(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        _fk("scope_agency_id", "agencies.id", "linkage_runs"),
        _fk("created_by_id", "users.id", "linkage_runs"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_runs")),
    )
    _index("linkage_runs", "scope_agency_id")

    op.create_table(
        "linkage_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("party_low_id", sa.Integer(), nullable=False),
        sa.Column("party_high_id", sa.Integer(), nullable=False),
        sa.Column("match_probability", sa.Float(), nullable=False),
        sa.Column("match_weight", sa.Float(), nullable=False),
        _fk("run_id", "linkage_runs.id", "linkage_links", "CASCADE"),
        _fk("party_low_id", "parties.id", "linkage_links", "CASCADE"),
        _fk("party_high_id", "parties.id", "linkage_links", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_links")),
        sa.UniqueConstraint("run_id", "party_low_id", "party_high_id", name=op.f("uq_linkage_links_run_id")),
    )
    _index("linkage_links", "run_id", "party_low_id", "party_high_id")

    op.create_table(
        "linkage_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("cluster_key", sa.Integer(), nullable=False),
        _fk("run_id", "linkage_runs.id", "linkage_clusters", "CASCADE"),
        _fk("party_id", "parties.id", "linkage_clusters", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_clusters")),
        sa.UniqueConstraint("run_id", "party_id", name=op.f("uq_linkage_clusters_run_id")),
    )
    _index("linkage_clusters", "run_id", "party_id", "cluster_key")

    op.create_table(
        "linkage_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_low_id", sa.Integer(), nullable=False),
        sa.Column("party_high_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _fk("party_low_id", "parties.id", "linkage_decisions", "CASCADE"),
        _fk("party_high_id", "parties.id", "linkage_decisions", "CASCADE"),
        _fk("agency_id", "agencies.id", "linkage_decisions"),
        _fk("user_id", "users.id", "linkage_decisions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_decisions")),
        sa.UniqueConstraint("party_low_id", "party_high_id", name=op.f("uq_linkage_decisions_party_low_id")),
    )
    _index("linkage_decisions", "party_low_id", "party_high_id")

    op.create_table(
        "linkage_pprl_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("party_a_id", sa.Integer(), nullable=False),
        sa.Column("party_b_id", sa.Integer(), nullable=False),
        sa.Column("case_a_id", sa.Integer(), nullable=False),
        sa.Column("case_b_id", sa.Integer(), nullable=False),
        sa.Column("agency_a_id", sa.Integer(), nullable=False),
        sa.Column("agency_b_id", sa.Integer(), nullable=False),
        sa.Column("dice", sa.Float(), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        _fk("party_a_id", "parties.id", "linkage_pprl_matches", "CASCADE"),
        _fk("party_b_id", "parties.id", "linkage_pprl_matches", "CASCADE"),
        _fk("case_a_id", "cases.id", "linkage_pprl_matches", "CASCADE"),
        _fk("case_b_id", "cases.id", "linkage_pprl_matches", "CASCADE"),
        _fk("agency_a_id", "agencies.id", "linkage_pprl_matches"),
        _fk("agency_b_id", "agencies.id", "linkage_pprl_matches"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_linkage_pprl_matches")),
        sa.UniqueConstraint("party_a_id", "party_b_id", name=op.f("uq_linkage_pprl_matches_party_a_id")),
    )
    _index("linkage_pprl_matches", "party_a_id", "party_b_id", "case_a_id", "case_b_id", "agency_a_id", "agency_b_id")


def downgrade() -> None:
    for table in ("linkage_pprl_matches", "linkage_decisions", "linkage_clusters", "linkage_links", "linkage_runs"):
        op.drop_table(table)
