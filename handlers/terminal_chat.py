"""The intake conversation in a terminal: numbered buttons, typed answers, the same engine."""

from __future__ import annotations

import getpass
import re
import unicodedata
from collections.abc import Callable
from typing import TextIO

from bot.messages import Button, DatePicker, Inbound, OutMessage
from handlers.services import Services
from storage.channels import Channel
from storage.contacts import get_or_create_contact
from storage.models import Contact

CHANNEL = Channel.CLI


_PICKED = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{1,2}):(\d{2})")


def _show(messages: list[OutMessage], output: TextIO) -> tuple[list[Button], DatePicker | None]:
    buttons: list[Button] = []
    picker: DatePicker | None = None
    for message in messages:
        output.write("\n" + message.text + "\n")
        for action in message.actions:
            if isinstance(action, Button):
                buttons.append(action)
                output.write(f"  [{len(buttons)}] {action.label}\n")
            elif isinstance(action, DatePicker):
                picker = action
                output.write(f"  （{action.label}：YYYY-MM-DD HH:MM の形でご入力ください）\n")
    return buttons, picker


def _picked(line: str, picker: DatePicker | None) -> Inbound | None:
    """A typed date and time as the picker's answer (`YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM`), if one is open."""
    found = _PICKED.fullmatch(unicodedata.normalize("NFKC", line).strip())
    if picker is None or found is None:
        return None
    value = f"{found[1]}T{int(found[2]):02d}:{found[3]}"
    return Inbound("postback", text=line, data=picker.data, params={"datetime": value})


def run_chat(
    services: Services, *, input_fn: Callable[[str], str], output: TextIO, visitor: str | None = None
) -> int:
    """Runs one terminal session until the owner types Ctrl-D or 終了."""
    visitor = visitor or f"terminal:{getpass.getuser()}"
    with services.db.session() as session:
        contact = get_or_create_contact(session=session, channel=CHANNEL, external_id=visitor)
        contact_id = contact.id
        buttons, picker = _show(
            services.engine.greet(session=session, contact=contact, channel=CHANNEL).replies, output
        )
    output.write(
        "\n（番号でボタンをお選びいただくか、文字をご入力ください。終わるときは「終了」または Ctrl-D）\n"
    )
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
            inbound = _picked(line, picker) or Inbound.typed(line)
        with services.db.session() as session:
            current = session.get(Contact, contact_id)
            if current is None:
                return 1
            turn = services.engine.handle(session=session, contact=current, inbound=inbound, channel=CHANNEL)
            buttons, picker = _show(turn.replies, output)
