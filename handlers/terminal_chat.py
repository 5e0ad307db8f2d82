"""The intake conversation in a terminal: numbered buttons, typed answers, the same engine."""

from __future__ import annotations

import getpass
from collections.abc import Callable
from typing import TextIO

from bot.messages import Button, DatePicker, Inbound, OutMessage
from handlers.services import Services
from storage.contacts import get_or_create_contact
from storage.models import Contact

CHANNEL = "cli"


def _show(messages: list[OutMessage], output: TextIO) -> list[Button]:
    buttons: list[Button] = []
    for message in messages:
        output.write("\n" + message.text + "\n")
        for action in message.actions:
            if isinstance(action, Button):
                buttons.append(action)
                output.write(f"  [{len(buttons)}] {action.label}\n")
            elif isinstance(action, DatePicker):
                output.write(f"  （{action.label}：YYYY-MM-DD HH:MM と入力）\n")
    return buttons


def run_chat(
    services: Services, *, input_fn: Callable[[str], str], output: TextIO, visitor: str | None = None
) -> int:
    """Runs one terminal session until the owner types Ctrl-D or 終了."""
    visitor = visitor or f"terminal:{getpass.getuser()}"
    with services.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        contact_id = contact.id
        buttons = _show(
            services.engine.greet(session=session, contact=contact, channel=CHANNEL).replies, output
        )
    output.write("\n（番号でボタンを選ぶか、文字を入力してください。終わるときは「終了」または Ctrl-D）\n")
    while True:
        try:
            line = input_fn("> ").strip()
        except EOFError:
            output.write("\n")
            return 0
        if line in ("終了", "exit", "quit"):
            return 0
        if not line:
            continue
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            inbound = Inbound.tapped(buttons[int(line) - 1])
        else:
            inbound = Inbound.typed(line)
        with services.db.session() as session:
            current = session.get(Contact, contact_id)
            if current is None:
                return 1
            turn = services.engine.handle(session=session, contact=current, inbound=inbound, channel=CHANNEL)
            buttons = _show(turn.replies, output)
