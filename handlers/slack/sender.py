"""The coordinators' sender for Slack: a Notice (bot/sending.py) becomes an outbox row of the SLACK channel
in the caller's transaction. A card's row says only which consultation's card to show; the delivery
(handlers/slack/delivery.py) renders the card as the consultation stands when it sends, so a row written
later never shows older news than one written before it. Other notices (a reply in the card's thread, a
post to the desk, a direct message) are rendered when they are delivered too (handlers/slack/notices.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.sending import Notice
from storage.channels import Channel
from storage.clock import Clock
from storage.models import OutboxMessage
from storage.outbox import enqueue


class SlackCoordinatorSender:
    """Writes the SLACK outbox rows of notices for the coordinators."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    @property
    def channel(self) -> Channel:
        return Channel.SLACK

    def to_coordinators(self, *, session: Session, notice: Notice) -> list[OutboxMessage]:
        """One row: the notice as data (ids and codes, and the words it carries, encrypted with the row)."""
        row = enqueue(
            session=session,
            channel=self.channel,
            contact_id=None,
            messages=[notice.to_dict()],
            now=self.clock.now(),
            consultation_id=notice.consultation_id,
            reason=notice.kind[:32],
        )
        session.flush()
        return [row]
