"""The tables of the intake: contacts, companies, consultations, conversations, the interaction log,
consents, and the webhook inbox and outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.base import Base, utcnow
from storage.crypto import EncryptedJSON, EncryptedText


class Contact(Base):
    """A person who talks to the desk: a LINE user, a browser visitor or a form submitter."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("channel", "external_id_hash", name="uq_contact_channel_external"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(EncryptedText)
    external_id_hash: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    reachable: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Company(Base):
    """A business that asked for help; names are business data, kept in clear for searching (none for a
    sole trader without a trade name: their own name is personal data, kept encrypted on the consultation)."""

    __tablename__ = "company"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200), index=True)
    industry: Mapped[str | None] = mapped_column(String(8))
    municipality_code: Mapped[str | None] = mapped_column(String(5))
    employee_band: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# The values of bot.lifecycle.ConsultationStatus, which alone changes them (a test compares the two).
CONSULTATION_STATUSES = ("submitted", "in_progress", "closed", "withdrawn")


REPORT_COLUMNS = ("submitted_at", "status", "method", "category", "industry", "region", "municipality_code",
                  "employee_band", "dx_stage", "contact_id", "id")  # fmt: skip


class Consultation(Base):
    """A consultation request with its answers and status."""

    __tablename__ = "consultation"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in CONSULTATION_STATUSES)})", name="status"),
        # The report's 新規/継続 and the detail list's n回目: a contact's earlier consultations
        Index("ix_consultation_contact_submitted", "contact_id", "submitted_at", "id"),
        # The report's breakdowns by month (covering: counted from the index alone)
        Index("ix_consultation_report", *REPORT_COLUMNS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    channel: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("company.id"), index=True)
    company_name: Mapped[str | None] = mapped_column(String(200))  # None: a sole trader without a trade name
    sole_trader: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    owner_name: Mapped[str | None] = mapped_column(EncryptedText)  # a sole trader's own name
    contact_name: Mapped[str | None] = mapped_column(EncryptedText)
    phone: Mapped[str | None] = mapped_column(EncryptedText)
    email: Mapped[str | None] = mapped_column(EncryptedText)
    industry: Mapped[str] = mapped_column(String(8))
    municipality_code: Mapped[str] = mapped_column(String(5))
    region: Mapped[str] = mapped_column(String(32))
    employee_band: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(String(32))
    category_secondary: Mapped[str | None] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(EncryptedText)
    dx_stage: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    notice_version: Mapped[str] = mapped_column(String(32))
    # The answers of fields without a column of their own (bot/fields.py): in clear, and personal ones encrypted.
    extra: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    personal_extra: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON)
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact] = relationship()
    company: Mapped[Company] = relationship()


class ConsultationEvent(Base):
    """One entry of a consultation's history (submitted, booking_requested, booking_confirmed, booking_moved, in_progress, …)."""

    __tablename__ = "consultation_event"
    __table_args__ = (
        # The report's response times: a consultation's first action by a coordinator
        Index("ix_consultation_event_first_action", "consultation_id", "at", "actor", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultation.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class Conversation(Base):
    """Where one contact stands in a flow; answers are personal data and stored encrypted."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), unique=True)
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    answers: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    history: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The flow's control flags (consent given, company reused, times offered, a flow parked): no personal data
    flags: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    pending: Mapped[str | None] = mapped_column(String(32))
    editing: Mapped[bool] = mapped_column(Boolean, default=False)
    token: Mapped[str] = mapped_column(String(16))
    log_from_id: Mapped[int | None] = mapped_column(Integer)  # its first interaction, for forgetting it
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Interaction(Base):
    """The interaction log: every inbound and outbound message, which monthly reporting counts."""

    __tablename__ = "interaction"
    __table_args__ = (
        Index("ix_interaction_at_channel", "at", "channel"),
        # The report's LINE counts (covering): received by `at`, delivered by `delivered_at`
        Index("ix_interaction_channel_direction_at", "channel", "direction", "at"),
        Index(
            "ix_interaction_channel_direction_delivered", "channel", "direction", "delivered_at", "outbox_id"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(3))  # "in" or "out"
    kind: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultation.id", ondelete="SET NULL"), index=True
    )
    step: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str | None] = mapped_column(EncryptedText)
    external_message_id: Mapped[str | None] = mapped_column(String(64))  # the channel's id, e.g. LINE's
    # An outbound message queued for a channel: the outbox row that carries it, and when that was delivered
    # (None while it waits or is parked). A message shown at once (the simulator, the web form) is
    # delivered when it is logged. Reports count outbound messages by `delivered_at`.
    outbox_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_message.id", ondelete="SET NULL"), index=True
    )
    delivered_at: Mapped[datetime | None] = mapped_column(index=True)


class Consent(Base):
    """Which privacy-notice version a contact accepted or declined, and when."""

    __tablename__ = "consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32), default="intake")
    notice_version: Mapped[str] = mapped_column(String(32))
    accepted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class InboxEvent(Base):
    """A raw webhook event, stored (encrypted) before it is acknowledged, processed once."""

    __tablename__ = "inbox_event"
    __table_args__ = (
        UniqueConstraint("channel", "event_id", name="uq_inbox_event_channel_event"),
        Index("ix_inbox_event_pending", "status", "user_key", "event_ts"),
        Index("ix_inbox_event_due", "status", "event_ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(64))
    user_key: Mapped[str | None] = mapped_column(String(64))
    event_ts: Mapped[int] = mapped_column(BigInteger, default=0)  # LINE's milliseconds
    body: Mapped[Any] = mapped_column(EncryptedJSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    purged_at: Mapped[datetime | None]  # when the raw body was emptied after the retention period


class OutboxMessage(Base):
    """A message to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_contact_pending", "contact_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id", ondelete="CASCADE"), index=True)
    consultation_id: Mapped[int | None] = mapped_column(ForeignKey("consultation.id", ondelete="SET NULL"))
    inbox_event_id: Mapped[int | None] = mapped_column(ForeignKey("inbox_event.id", ondelete="SET NULL"))
    payload: Mapped[Any] = mapped_column(EncryptedJSON)
    # The channel's short-lived handle to answer the message that caused this one (LINE's reply token).
    reply_token: Mapped[str | None] = mapped_column(EncryptedText)
    reply_expires_at: Mapped[datetime | None]
    retry_key: Mapped[str] = mapped_column(String(36), unique=True)  # LINE sends it as X-Line-Retry-Key
    reason: Mapped[str | None] = mapped_column(
        String(32)
    )  # why it is sent: reply, reminder, booking_confirmed, …
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    reply_attempted_at: Mapped[datetime | None]  # a reply may have reached the platform: never push after it
    delivered_via: Mapped[str | None] = mapped_column(String(16))  # reply, reply-uncertain, push, push-409
    # Pushed after a reply that may have reached the owner too (its answer was lost): they may see it twice.
    duplicate_possible: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
