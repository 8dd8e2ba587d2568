"""messaging tables: alerts, recipients, alert cases, bulletins, attachments, watchlists, inbox, e-mail outbox

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("sender_agency_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("subject_kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("transport_mode", sa.String(length=32), nullable=True),
        sa.Column("origin_country", sa.String(length=2), nullable=False),
        sa.Column("transit_countries", sa.JSON(), nullable=False),
        sa.Column("destination_country", sa.String(length=2), nullable=False),
        sa.Column("expected_arrival", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sharing_level", sa.String(length=16), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_alerts_created_by_id_users")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_alerts_operation_id_operations")),
        sa.ForeignKeyConstraint(
            ["sender_agency_id"], ["agencies.id"], name=op.f("fk_alerts_sender_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alerts_sender_agency_id"), ["sender_agency_id"], unique=False)

    op.create_table(
        "bulletins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.Integer(), nullable=False),
        sa.Column("sender_agency_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sharing_level", sa.String(length=16), nullable=False),
        sa.Column("to_all", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_bulletins_created_by_id_users")),
        sa.ForeignKeyConstraint(["operation_id"], ["operations.id"], name=op.f("fk_bulletins_operation_id_operations")),
        sa.ForeignKeyConstraint(
            ["sender_agency_id"], ["agencies.id"], name=op.f("fk_bulletins_sender_agency_id_agencies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletins")),
    )
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulletins_operation_id"), ["operation_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulletins_sender_agency_id"), ["sender_agency_id"], unique=False)

    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("link", sa.String(length=200), nullable=False),
        sa.Column("sharing_level", sa.String(length=16), nullable=False),
        sa.Column("object_type", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_notifications_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_agency_user", ["agency_id", "user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notifications_user_id"), ["user_id"], unique=False)

    op.create_table(
        "watchlist_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("normalised", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_watchlist_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_entries")),
        sa.UniqueConstraint("user_id", "kind", "normalised", name=op.f("uq_watchlist_entries_user_id")),
    )
    with op.batch_alter_table("watchlist_entries", schema=None) as batch_op:
        batch_op.create_index("ix_watchlist_entries_kind_normalised", ["kind", "normalised"], unique=False)
        batch_op.create_index(batch_op.f("ix_watchlist_entries_user_id"), ["user_id"], unique=False)

    op.create_table(
        "alert_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_alert_cases_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_cases_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_alert_cases_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_cases")),
        sa.UniqueConstraint("alert_id", "case_id", name=op.f("uq_alert_cases_alert_id")),
    )
    with op.batch_alter_table("alert_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_cases_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_cases_case_id"), ["case_id"], unique=False)

    op.create_table(
        "alert_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("normalised", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_identifiers_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_identifiers")),
    )
    with op.batch_alter_table("alert_identifiers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_identifiers_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index("ix_alert_identifiers_kind_normalised", ["kind", "normalised"], unique=False)

    op.create_table(
        "alert_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(length=24), nullable=True),
        sa.Column("result_note", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"], ["users.id"], name=op.f("fk_alert_recipients_acknowledged_by_id_users")
        ),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_alert_recipients_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_alert_recipients_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"], ["users.id"], name=op.f("fk_alert_recipients_answered_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_recipients")),
        sa.UniqueConstraint("alert_id", "agency_id", name=op.f("uq_alert_recipients_alert_id")),
    )
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_recipients_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_recipients_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("bulletin_id", sa.Integer(), nullable=True),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_attachments_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.id"], name=op.f("fk_attachments_alert_id_alerts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["bulletin_id"], ["bulletins.id"], name=op.f("fk_attachments_bulletin_id_bulletins"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["uploaded_by_id"], ["users.id"], name=op.f("fk_attachments_uploaded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachments")),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_attachments_alert_id"), ["alert_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_bulletin_id"), ["bulletin_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_attachments_sha256"), ["sha256"], unique=False)

    op.create_table(
        "bulletin_recipients",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bulletin_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_bulletin_recipients_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["bulletin_id"],
            ["bulletins.id"],
            name=op.f("fk_bulletin_recipients_bulletin_id_bulletins"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bulletin_recipients")),
        sa.UniqueConstraint("bulletin_id", "agency_id", name=op.f("uq_bulletin_recipients_bulletin_id")),
    )
    with op.batch_alter_table("bulletin_recipients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bulletin_recipients_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bulletin_recipients_bulletin_id"), ["bulletin_id"], unique=False)

    op.create_table(
        "email_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=True),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sharing_level", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_email_outbox_notification_id_notifications"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_outbox")),
    )
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_email_outbox_sent_at"), ["sent_at"], unique=False)

    op.create_table(
        "notification_reads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_reads_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notification_reads_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_reads")),
        sa.UniqueConstraint("notification_id", "user_id", name=op.f("uq_notification_reads_notification_id")),
    )
    with op.batch_alter_table("notification_reads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notification_reads_notification_id"), ["notification_id"], unique=False)

    op.create_table(
        "watchlist_hits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.String(length=16), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["watchlist_entries.id"],
            name=op.f("fk_watchlist_hits_entry_id_watchlist_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watchlist_hits")),
        sa.UniqueConstraint("entry_id", "record_type", "record_id", name=op.f("uq_watchlist_hits_entry_id")),
    )
    with op.batch_alter_table("watchlist_hits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_watchlist_hits_entry_id"), ["entry_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("watchlist_hits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watchlist_hits_entry_id"))

    op.drop_table("watchlist_hits")
    with op.batch_alter_table("notification_reads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_reads_notification_id"))

    op.drop_table("notification_reads")
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_email_outbox_sent_at"))

    op.drop_table("email_outbox")
    with op.batch_alter_table("bulletin_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletin_recipients_bulletin_id"))
        batch_op.drop_index(batch_op.f("ix_bulletin_recipients_agency_id"))

    op.drop_table("bulletin_recipients")
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachments_sha256"))
        batch_op.drop_index(batch_op.f("ix_attachments_bulletin_id"))
        batch_op.drop_index(batch_op.f("ix_attachments_alert_id"))

    op.drop_table("attachments")
    with op.batch_alter_table("alert_recipients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_recipients_alert_id"))
        batch_op.drop_index(batch_op.f("ix_alert_recipients_agency_id"))

    op.drop_table("alert_recipients")
    with op.batch_alter_table("alert_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_alert_identifiers_kind_normalised")
        batch_op.drop_index(batch_op.f("ix_alert_identifiers_alert_id"))

    op.drop_table("alert_identifiers")
    with op.batch_alter_table("alert_cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_cases_case_id"))
        batch_op.drop_index(batch_op.f("ix_alert_cases_alert_id"))

    op.drop_table("alert_cases")
    with op.batch_alter_table("watchlist_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watchlist_entries_user_id"))
        batch_op.drop_index("ix_watchlist_entries_kind_normalised")

    op.drop_table("watchlist_entries")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_user_id"))
        batch_op.drop_index("ix_notifications_agency_user")

    op.drop_table("notifications")
    with op.batch_alter_table("bulletins", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bulletins_sender_agency_id"))
        batch_op.drop_index(batch_op.f("ix_bulletins_operation_id"))

    op.drop_table("bulletins")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_sender_agency_id"))
        batch_op.drop_index(batch_op.f("ix_alerts_operation_id"))

    op.drop_table("alerts")
