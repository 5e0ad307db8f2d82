"""The sending seam: domain code asks for a neutral message to reach a contact, or an event to reach the
coordinators, and gets outbox rows written in its own transaction. Each channel implements a `Sender` in
`handlers/` (LINE today; Slack, mail and the simulator later): it checks the messages against its own
limits, splits them as it must, and writes the rows its delivery drains. Nothing here knows a platform.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from bot.messages import OutMessage
from storage.channels import Channel
from storage.models import Contact, OutboxMessage


@dataclass(frozen=True)
class Capacity:
    """What one message of a channel can carry, as the conversation needs to know it (its buttons are
    paged to fit). A channel that says nothing of itself (a test's chat, the terminal) gets these."""

    buttons: int = 13  # the actions one message shows, page buttons included
    messages: int = 5  # the messages one answer carries before the channel must split it
    text: int = 2000  # the characters one text message carries (a longer one is cut by who writes it)

    def __post_init__(self) -> None:
        if self.buttons < 3:  # room for one choice and the two page buttons
            raise ValueError("a channel that pages buttons shows at least three at once")


class NoSender(LookupError):
    """No sender is configured for the channel a message would go to."""


class Sender(Protocol):
    """Queues messages to contacts of one channel, in the caller's transaction."""

    @property
    def channel(self) -> Channel: ...

    @property
    def capacity(self) -> Capacity: ...

    def to_contact(
        self,
        *,
        session: Session,
        contact: Contact,
        messages: Sequence[OutMessage],
        reason: str,
        consultation_id: int | None = None,
    ) -> list[OutboxMessage]:
        """Writes the outbox rows (and the interaction log rows, counted once delivered) of `messages`;
        raises bot.messages.MessageLimitError, writing nothing, for what the channel would refuse."""
        ...


@dataclass(frozen=True)
class ToContact:
    """One contact's messages in a batch queued at once (Outbound.to_contacts): the contact by id and
    channel (the batch reads no contact rows)."""

    contact_id: int
    channel: str
    messages: Sequence[OutMessage]
    reason: str
    consultation_id: int | None = None


@runtime_checkable
class BatchSender(Sender, Protocol):
    """A sender that queues many contacts' messages in a few statements (thousands of reminders at once)."""

    def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
        """Writes what `to_contact` would for each item; the ids of each item's outbox rows, in order.
        All or nothing: MessageLimitError, writing nothing, for what the channel would refuse."""
        ...


def queue_each(sender: Sender, *, session: Session, items: Sequence[ToContact]) -> list[list[int]]:
    """A batch queued one contact at a time (the way of a sender with no batch path of its own)."""
    queued = []
    for item in items:
        contact = session.get(Contact, item.contact_id)
        if contact is None:
            raise LookupError(f"contact {item.contact_id} is gone")
        rows = sender.to_contact(
            session=session,
            contact=contact,
            messages=item.messages,
            reason=item.reason,
            consultation_id=item.consultation_id,
        )
        session.flush()
        queued.append([row.id for row in rows])
    return queued


# Where a notice for the coordinators goes; the coordinators' channel decides what that is (in Slack: the
# consultation's card, a reply in the card's thread, a post in the intake channel, a direct message).
TO_CARD = "card"  # the consultation's card, shown as the consultation stands when it is delivered
TO_THREAD = "thread"  # a message in the consultation's conversation with the desk
TO_DESK = "desk"  # a message to the whole desk, of no one consultation (a monthly summary, a warning)
_TO_COORDINATOR = "coordinator:"


def to_coordinator(coordinator_id: str) -> str:
    """The address of one coordinator's own messages (in Slack: a direct message from the app)."""
    return f"{_TO_COORDINATOR}{coordinator_id}"


def coordinator_of(to: str) -> str | None:
    """The coordinator a notice is addressed to, or None for the card, a thread or the desk."""
    return to.removeprefix(_TO_COORDINATOR) if to.startswith(_TO_COORDINATOR) else None


@dataclass(frozen=True)
class Notice:
    """An event for the coordinators (a request to approve, a cancellation, a message from the owner, a
    digest), as data: the coordinators' channel renders it (a Slack card or message, a mail)."""

    kind: str  # e.g. "booking_requested", "booking_cancelled", "owner_message", "digest"
    consultation_id: int | None = None
    booking_id: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)  # ids, codes and counts: no personal data
    to: str = TO_CARD
    # What someone wrote, shown as written (an owner's message, a survey comment). It is personal data: kept
    # only in the outbox row, encrypted as the messages to owners are, and never logged.
    text: str | None = None

    def __post_init__(self) -> None:
        if self.to in (TO_CARD, TO_THREAD) and self.consultation_id is None:
            raise ValueError(f"a notice for the {self.to} belongs to a consultation")
        if self.to not in (TO_CARD, TO_THREAD, TO_DESK) and not coordinator_of(self.to):
            raise ValueError(f"unknown notice address {self.to!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "consultation_id": self.consultation_id,
            "booking_id": self.booking_id,
            "detail": dict(self.detail),
            "to": self.to,
            "text": self.text,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notice:
        """The notice an outbox row holds (rows written before `to` existed are cards)."""
        return cls(
            kind=str(data.get("kind") or ""),
            consultation_id=data.get("consultation_id"),
            booking_id=data.get("booking_id"),
            detail=dict(data.get("detail") or {}),
            to=str(data.get("to") or TO_CARD),
            text=data.get("text"),
        )


class CoordinatorSender(Protocol):
    """Queues events for the coordinators (Slack later), in the caller's transaction."""

    @property
    def channel(self) -> Channel: ...

    def to_coordinators(self, *, session: Session, notice: Notice) -> list[OutboxMessage]: ...


@dataclass(frozen=True)
class Outbound:
    """The senders of this process, by channel: what domain code calls to reach anyone."""

    senders: Mapping[Channel, Sender] = field(default_factory=dict)
    coordinators: CoordinatorSender | None = None
    # The capacity of channels that answer at once, with no sender (the simulator shows the LINE chat).
    capacities: Mapping[Channel, Capacity] = field(default_factory=dict)

    def sender_for(self, channel: str) -> Sender:
        """The sender of a channel (NoSender when none is configured here)."""
        sender = self.senders.get(Channel(channel))
        if sender is None:
            raise NoSender(f"no sender for the {channel} channel")
        return sender

    def capacity_of(self, channel: str) -> Capacity:
        """How many buttons and messages the channel's messages carry (the default for one without a sender)."""
        try:
            known = Channel(channel)
        except ValueError:
            return Capacity()
        sender = self.senders.get(known)
        return sender.capacity if sender is not None else self.capacities.get(known, Capacity())

    def to_contact(
        self,
        *,
        session: Session,
        contact: Contact,
        messages: Sequence[OutMessage],
        reason: str,
        consultation_id: int | None = None,
    ) -> list[OutboxMessage]:
        """Queues `messages` for `contact` on the contact's own channel, in the caller's transaction."""
        if not messages:
            return []
        return self.sender_for(contact.channel).to_contact(
            session=session,
            contact=contact,
            messages=messages,
            reason=reason,
            consultation_id=consultation_id,
        )

    def to_contacts(self, *, session: Session, items: Sequence[ToContact]) -> list[list[int] | None]:
        """Queues each item on its contact's own channel, in the caller's transaction, a channel's items
        together; the ids of each item's outbox rows, or None where its channel has no sender here."""
        queued: list[list[int] | None] = [None] * len(items)
        by_channel: dict[str, list[int]] = {}
        for index, item in enumerate(items):
            if item.messages:
                by_channel.setdefault(item.channel, []).append(index)
            else:
                queued[index] = []
        for channel, indexes in by_channel.items():
            try:
                sender = self.sender_for(channel)
            except NoSender:
                continue
            batch = [items[i] for i in indexes]
            if isinstance(sender, BatchSender):
                ids = sender.to_contacts(session=session, items=batch)
            else:
                ids = queue_each(sender, session=session, items=batch)
            for index, rows in zip(indexes, ids, strict=True):
                queued[index] = rows
        return queued

    def to_coordinators(self, *, session: Session, notice: Notice) -> list[OutboxMessage]:
        """Queues an event for the coordinators, in the caller's transaction (NoSender without a channel)."""
        if self.coordinators is None:
            raise NoSender("no coordinators' channel is configured")
        return self.coordinators.to_coordinators(session=session, notice=notice)
