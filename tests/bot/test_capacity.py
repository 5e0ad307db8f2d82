"""Choice buttons are paged by what the owner's channel shows in one message, not by a fixed size."""

from __future__ import annotations

import math

import pytest

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from bot.sending import Capacity, Outbound
from config import DeskConfig
from handlers.line.render import CAPACITY as LINE_CAPACITY
from handlers.line.render import MAX_QUICK_REPLIES
from handlers.services import build_outbound
from storage.channels import Channel
from storage.clock import FixedClock
from storage.database import Database
from tests.bot.chat import Chat
from tests.owner import Owner

NAV = {texts.NEXT_PAGE, texts.PREV_PAGE}


def industry_pages(chat: Chat) -> list[list[str]]:
    """The labels of every page of the industry question, following its next-page button."""
    Owner(chat).walk_to(Step.INDUSTRY, company="さつま商店", contact_name="花子")
    pages = [[b.label for b in chat.buttons()]]
    while texts.NEXT_PAGE in pages[-1]:
        chat.tap(texts.NEXT_PAGE)
        pages.append([b.label for b in chat.buttons()])
    return pages


@pytest.mark.parametrize("buttons", [3, 5, 8])
def test_a_small_channel_gets_more_smaller_pages_with_every_choice_on_one(
    db: Database, desk: DeskConfig, clock: FixedClock, buttons: int
) -> None:
    outbound = Outbound(capacities={Channel.SIMULATOR: Capacity(buttons=buttons)})
    pages = industry_pages(Chat(IntakeEngine(desk, clock, outbound=outbound), db))
    assert all(len(page) <= buttons for page in pages)
    assert len(pages) == math.ceil(len(desk.industries) / (buttons - 2))
    shown = [label for page in pages for label in page if label not in NAV]
    assert shown == [c.label for c in desk.industries]  # each once, in order


def test_line_pages_fill_lines_quick_replies(db: Database, desk: DeskConfig, clock: FixedClock) -> None:
    engine = IntakeEngine(desk, clock, outbound=build_outbound(clock))  # the LINE sender's capacity
    assert engine.outbound.capacity_of(Channel.LINE) == LINE_CAPACITY
    pages = industry_pages(Chat(engine, db, channel=Channel.LINE))
    assert all(len(page) <= MAX_QUICK_REPLIES for page in pages)
    assert len(pages[0]) == MAX_QUICK_REPLIES - 1  # every choice it can show, and the next-page button
    assert {label for page in pages for label in page} - NAV == {c.label for c in desk.industries}
