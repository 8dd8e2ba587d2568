"""targeting profiles: stored risk profiles with their review cycle and the history of their changes

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "targeting_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("mandatory", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("review_by", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("responsible", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_targeting_profiles_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_targeting_profiles_reviewed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_profiles")),
        sa.UniqueConstraint("key", name=op.f("uq_targeting_profiles_key")),
    )
    op.create_index(op.f("ix_targeting_profiles_agency_id"), "targeting_profiles", ["agency_id"], unique=False)
    op.create_table(
        "targeting_profile_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=True),
        sa.Column("by_name", sa.String(length=150), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["profile_id"], ["targeting_profiles.id"],
            name=op.f("fk_targeting_profile_changes_profile_id_targeting_profiles"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["by_id"], ["users.id"], name=op.f("fk_targeting_profile_changes_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_profile_changes")),
        sa.UniqueConstraint("profile_id", "version", name=op.f("uq_targeting_profile_changes_profile_id")),
    )  # fmt: skip
    op.create_index(
        op.f("ix_targeting_profile_changes_profile_id"), "targeting_profile_changes", ["profile_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("targeting_profile_changes")
    op.drop_table("targeting_profiles")
