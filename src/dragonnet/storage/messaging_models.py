"""Tables of the messaging capability (registered on the shared metadata by dragonnet.storage.schema).

Alerts (with their identifiers, recipients and the cases they led to), bulletins, watchlists, attachments
(metadata only: the bytes live content-addressed under the data directory), the inbox and the e-mail
outbox. Every message carries the sharing level (TLP) of its content.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dragonnet.storage.models import Agency, Base, utcnow


class Alert(Base):
    """A warning about a shipment, conveyance or person, routed to the agencies of the countries on its route."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    sender_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    subject_kind: Mapped[str] = mapped_column(String(16))  # shipment, conveyance, person
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    indicators: Mapped[list[str]] = mapped_column(JSON, default=list)
    transport_mode: Mapped[str | None] = mapped_column(String(32))
    origin_country: Mapped[str] = mapped_column(String(2))
    transit_countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    destination_country: Mapped[str] = mapped_column(String(2))
    expected_arrival: Mapped[dt.datetime | None] = mapped_column()
    sharing_level: Mapped[str] = mapped_column(String(16))
    urgency: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sender_agency: Mapped[Agency] = relationship()
    identifiers: Mapped[list[AlertIdentifier]] = relationship(
        order_by="AlertIdentifier.id", cascade="all, delete-orphan"
    )
    recipients: Mapped[list[AlertRecipient]] = relationship(order_by="AlertRecipient.id", cascade="all, delete-orphan")

    @property
    def route(self) -> list[str]:
        return [self.origin_country, *self.transit_countries, self.destination_country]


class AlertIdentifier(Base):
    """AWB, B/L, container (ISO 6346), flight, vessel (IMO) or passport named in an alert."""

    __tablename__ = "alert_identifiers"
    __table_args__ = (Index("ix_alert_identifiers_kind_normalised", "kind", "normalised"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(100))
    normalised: Mapped[str] = mapped_column(String(100))


class AlertRecipient(Base):
    """One recipient agency of an alert: when it acknowledged and what it found."""

    __tablename__ = "alert_recipients"
    __table_args__ = (UniqueConstraint("alert_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16))  # route, regional, added
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column()
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    result: Mapped[str | None] = mapped_column(String(24))
    result_note: Mapped[str | None] = mapped_column(Text)
    # What the answering agency found, as it reports it to the alert's sender and recipients (its case, if one
    # was opened, stays under its own sharing level): the class of goods, what, how much, and when.
    result_commodity: Mapped[str | None] = mapped_column(String(16))
    result_goods: Mapped[str | None] = mapped_column(String(200))
    result_quantity: Mapped[float | None] = mapped_column(Float)
    result_unit: Mapped[str | None] = mapped_column(String(16))
    result_seizure_date: Mapped[dt.date | None] = mapped_column(Date)
    answered_at: Mapped[dt.datetime | None] = mapped_column()
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    agency: Mapped[Agency] = relationship()


class AlertCase(Base):
    """A case opened from an alert ("seizure made")."""

    __tablename__ = "alert_cases"
    __table_args__ = (UniqueConstraint("alert_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Bulletin(Base):
    """A modus-operandi or trend note to all members or to chosen agencies."""

    __tablename__ = "bulletins"

    id: Mapped[int] = mapped_column(primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    sender_agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sharing_level: Mapped[str] = mapped_column(String(16))
    to_all: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    sender_agency: Mapped[Agency] = relationship()
    recipients: Mapped[list[BulletinRecipient]] = relationship(cascade="all, delete-orphan")


class BulletinRecipient(Base):
    __tablename__ = "bulletin_recipients"
    __table_args__ = (UniqueConstraint("bulletin_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bulletin_id: Mapped[int] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)

    agency: Mapped[Agency] = relationship()


class Attachment(Base):
    """A file attached to an alert or a bulletin; the bytes are stored once per sha256 under the data dir."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    bulletin_id: Mapped[int | None] = mapped_column(ForeignKey("bulletins.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WatchlistEntry(Base):
    """An identifier of interest to one user (person, company, phone, container, vessel...)."""

    __tablename__ = "watchlist_entries"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "normalised"),
        Index("ix_watchlist_entries_kind_normalised", "kind", "normalised"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(200))
    normalised: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class WatchlistHit(Base):
    """A record that matched a watchlist entry and that the entry's owner was told about (once)."""

    __tablename__ = "watchlist_hits"
    __table_args__ = (UniqueConstraint("entry_id", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("watchlist_entries.id", ondelete="CASCADE"), index=True)
    record_type: Mapped[str] = mapped_column(String(16))  # case, declaration
    record_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Notification(Base):
    """An inbox message: to one user (`user_id`) or to every member of an agency (`user_id` NULL)."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_agency_user", "agency_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(300))
    link: Mapped[str] = mapped_column(String(200))
    sharing_level: Mapped[str] = mapped_column(String(16))
    object_type: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class NotificationRead(Base):
    __tablename__ = "notification_reads"
    __table_args__ = (UniqueConstraint("notification_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    read_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class EmailOutbox(Base):
    """An e-mail waiting for the SMTP server (written in the transaction of what it announces)."""

    __tablename__ = "email_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id", ondelete="SET NULL"))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    sharing_level: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))


__all__ = [
    "Alert",
    "AlertCase",
    "AlertIdentifier",
    "AlertRecipient",
    "Attachment",
    "Base",
    "Bulletin",
    "BulletinRecipient",
    "EmailOutbox",
    "Notification",
    "NotificationRead",
    "WatchlistEntry",
    "WatchlistHit",
]
