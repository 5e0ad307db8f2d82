"""`madoguchi chat`: the intake in a terminal, typed line by line, as an owner meets it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from io import StringIO
from itertools import chain

import pytest
from sqlalchemy import select

from bot import texts
from bot.intake import Step
from handlers.services import Services
from handlers.terminal_chat import run_chat
from storage.bookings import Booking
from storage.models import Consultation
from tests.bot.test_owner import ORDER
from tests.owner import Owner, TerminalChannel


class Terminal:
    """Feeds typed lines to run_chat and keeps what it printed, line by line, as the owner sees it."""

    def __init__(self, lines: Iterable[str], channel: TerminalChannel | None = None) -> None:
        self.lines = iter(lines)
        self.output = StringIO()
        self.shown: list[str] = []  # the output after each typed line
        self.channel = channel  # where the scripted owner reads the screen before its next line

    def input_fn(self) -> Callable[[str], str]:
        def read(prompt: str) -> str:
            self.shown.append(self.output.getvalue())
            if self.channel is not None:
                self.channel.screen = self.shown[-1]
            self.output.seek(0)
            self.output.truncate()
            try:
                return next(self.lines)
            except StopIteration:
                raise EOFError from None

        return read


def button_number(screen: str, label: str) -> str:
    found = re.search(rf"\[(\d+)\] {re.escape(label)}\n", screen)
    assert found, f"no button {label!r} in:\n{screen}"
    return found[1]


@pytest.fixture
def walk(services: Services) -> Iterator[Callable[[list[str]], Terminal]]:
    def run(lines: list[str]) -> Terminal:
        channel = TerminalChannel()
        terminal = Terminal(script(channel, lines), channel)
        assert run_chat(services, input_fn=terminal.input_fn(), output=terminal.output, visitor="t:1") == 0
        return terminal

    yield run


TO_SLOTS = "<the scripted owner up to the meeting times>"


def script(channel: TerminalChannel, lines: list[str]) -> Iterator[str]:
    """The typed lines, with TO_SLOTS standing for the scripted owner's answers up to the meeting times."""
    for line in lines:
        if line == TO_SLOTS:
            yield "1"  # 相談を申し込む
            yield from channel.lines(Owner(channel, started=True), Step.SLOT)
        else:
            yield line


@pytest.mark.parametrize("typed", ["2026-12-10 11:00", "2026-12-10T11:00", "２０２６-１２-１０ １１:００"])
def test_another_time_is_typed_as_the_chat_asks(
    walk: Callable[[list[str]], Terminal], services: Services, typed: str
) -> None:
    terminal = walk([TO_SLOTS, typed])
    slots, around = terminal.shown[-2], terminal.shown[-1]
    assert "12/10 11:00ごろの空き日時です" in around, around
    assert texts.CHOOSE_FROM_BUTTONS not in around
    assert f"（{texts.OTHER_TIME}：YYYY-MM-DD HH:MM の形でご入力ください）" in slots
    assert re.search(r"\[1\] 12/10\(木\) 1[01]:\d\d\n", around), around


def test_a_whole_request_ends_with_a_button_for_another(
    walk: Callable[[list[str]], Terminal], services: Services
) -> None:
    terminal = walk([TO_SLOTS, "2026-12-10 11:00", "1", "099-123-4567", texts.SUBMIT, "1"])
    done, again = terminal.shown[-2], terminal.shown[-1]
    assert "ご相談を受け付けました" in done
    assert button_number(done, texts.START_BUTTON) == "1"
    assert "前回と同じ会社の情報を使いますか" in again  # the button started a new request
    with services.db.session() as session:
        [consultation] = session.scalars(select(Consultation))
        [booking] = session.scalars(select(Booking))
    assert consultation.reference in done
    assert booking.consultation_id == consultation.id and f"{booking.starts_at:%Y-%m-%d}" == "2026-12-10"


def test_the_scripted_owner_meets_every_question_in_order_in_the_terminal_too(services: Services) -> None:
    channel = TerminalChannel()
    owner = Owner(channel, started=True)
    terminal = Terminal(chain(["1"], channel.lines(owner, Step.SUMMARY)), channel)
    assert run_chat(services, input_fn=terminal.input_fn(), output=terminal.output, visitor="t:2") == 0
    assert owner.path == ORDER
    assert "ご入力内容をご確認ください" in terminal.shown[-1]
