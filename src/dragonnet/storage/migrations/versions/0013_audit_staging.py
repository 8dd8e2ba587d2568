"""audit staging: entries are written in the audited change's transaction and chained in batches

Revision ID: 0013
Revises: 0008
Create Date: 2026-11-24

`audit_staged` holds entries between the commit of the change they record and the appender's batch that
chains them (`dragonnet.policy.audit`). The database guards them as it guards the chain: UPDATE is refused,
and DELETE is refused unless an entry with exactly the same content and this staged id is in the chain.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# The columns a staged entry shares with its chained copy (compared null-safely by the DELETE guard).
_SHARED = ("at", "actor_user_id", "actor_username", "actor_agency", "action", "object_type", "object_id",
           "client_address")  # fmt: skip


def _guard_condition(same: str, detail: str) -> str:
    matches = " AND ".join(f"e.{c} {same} OLD.{c}" for c in _SHARED)
    return f"SELECT 1 FROM audit_events e WHERE e.staged_id = OLD.id AND {matches} AND {detail}"  # noqa: S608


def upgrade() -> None:
    op.create_table(
        "audit_staged",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_user_id", sa.Integer(), nullable=True),
        sa.Column("actor_username", sa.String(length=64), nullable=True),
        sa.Column("actor_agency", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("client_address", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_staged")),
        sqlite_autoincrement=True,  # ids never reused: a chained entry keeps the id it was staged under
    )
    # Plain ADD COLUMN (no table rebuild on SQLite, which would drop the append-only triggers).
    op.add_column("audit_events", sa.Column("staged_id", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_audit_events_staged_id"), "audit_events", ["staged_id"], unique=True)
    if op.get_bind().dialect.name == "postgresql":
        condition = _guard_condition("IS NOT DISTINCT FROM", "e.detail::text = OLD.detail::text")
        op.execute(
            "CREATE FUNCTION dragonnet_audit_staged_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'UPDATE' THEN RAISE EXCEPTION 'the audit log is append-only'; END IF; "
            f"IF NOT EXISTS ({condition}) THEN "
            "RAISE EXCEPTION 'the audit log is append-only: a staged entry leaves only into the chain'; END IF; "
            "RETURN OLD; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_staged_guard BEFORE UPDATE OR DELETE ON audit_staged "
            "FOR EACH ROW EXECUTE FUNCTION dragonnet_audit_staged_guard()"
        )
    else:
        condition = _guard_condition("IS", "e.detail IS OLD.detail")
        op.execute(
            "CREATE TRIGGER audit_staged_no_update BEFORE UPDATE ON audit_staged "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )
        op.execute(
            f"CREATE TRIGGER audit_staged_no_delete BEFORE DELETE ON audit_staged WHEN NOT EXISTS ({condition}) "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: a staged entry leaves only into the chain'); "
            "END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_staged_guard ON audit_staged")
        op.execute("DROP FUNCTION IF EXISTS dragonnet_audit_staged_guard()")
    op.drop_index(op.f("ix_audit_events_staged_id"), table_name="audit_events")
    op.drop_column("audit_events", "staged_id")
    op.drop_table("audit_staged")
