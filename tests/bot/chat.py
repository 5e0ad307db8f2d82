"""A chat driver for tests: say something or tap a button, read the replies (errbot's testbot style)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine import IntakeEngine, Turn
from bot.messages import Button, Inbound, OutMessage
from storage.contacts import get_or_create_contact
from storage.database import Database
from tests.owner import Shown


@dataclass
class Chat:
    engine: IntakeEngine
    db: Database
    user: str = "U-test-owner"
    channel: str = "simulator"
    replies: list[OutMessage] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)

    def send(self, inbound: Inbound) -> list[OutMessage]:
        with self.db.session() as session:
            contact = get_or_create_contact(session=session, channel=self.channel, external_id=self.user)
            turn = self.engine.handle(session=session, contact=contact, inbound=inbound, channel=self.channel)
        self.turns.append(turn)
        self.replies = turn.replies
        return turn.replies

    def say(self, text: str) -> list[OutMessage]:
        return self.send(Inbound.typed(text))

    def buttons(self) -> list[Button]:
        return [a for m in self.replies for a in m.actions if isinstance(a, Button)]

    def button(self, label: str) -> Button:
        found = [b for b in self.buttons() if b.label == label]
        assert found, f"no button {label!r} in {[b.label for b in self.buttons()]}"
        return found[0]

    def tap(self, label: str) -> list[OutMessage]:
        return self.send(Inbound.tapped(self.button(label)))

    def shown(self) -> Shown:
        """The last turn as the scripted owner (tests/owner.py) reads it."""
        return Shown(tuple(m.text for m in self.replies), tuple((b.label, b.data) for b in self.buttons()))

    @property
    def text(self) -> str:
        """All reply texts of the last turn, joined."""
        return "\n".join(m.text for m in self.replies)
