"""The `/madoguchi` slash command, answered only to the one who typed it (ephemerally): `today`, `week`,
`pending` and `find <company>` for the coordinator who typed it (their `slack_user_id`) or the whole desk
for an approver, answered through the command's response_url after the ack; `help` in the ack itself."""

from __future__ import annotations

from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import desk_lists
from bot.desk_lists import FIND_MIN, LIST_MAX, Viewer
from config import DeskConfig
from config.slack import coordinator_for_slack_user
from handlers.services import Services
from handlers.slack.cards import TEXT_MAX, escape
from handlers.slack.texts import (
    COMMAND,
    FIND_EMPTY,
    FIND_TITLE,
    FIND_TOO_SHORT,
    HELP,
    LIST_MORE,
    NOT_REGISTERED,
    PENDING_EMPTY,
    PENDING_TITLE,
    TODAY_EMPTY,
    TODAY_TITLE,
    UNKNOWN_COMMAND,
    WEEK_EMPTY,
    WEEK_TITLE,
    WHOSE_DESK,
    WHOSE_MINE,
)

HELP_WORDS = {"", "help", "ヘルプ", "使い方"}
LISTS = {"today", "week", "pending", "find", "今日", "今週", "承認待ち", "検索"}
ALIASES = {"今日": "today", "今週": "week", "承認待ち": "pending", "検索": "find"}
MAX_ECHO = 40  # characters of an unknown subcommand quoted back


def command_answer(text: str) -> str:
    """The help, after a note when the command asked for something it does not do."""
    asked = " ".join(text.split())
    if asked.lower() in HELP_WORDS:
        return HELP
    return UNKNOWN_COMMAND.format(text=asked[:MAX_ECHO]) + "\n" + HELP


def viewer_of(desk: DeskConfig, slack_user_id: str) -> Viewer | None:
    """Whose lists a member sees: an approver the whole desk's, a coordinator their own, others none."""
    if slack_user_id and slack_user_id in desk.slack.approvers:
        return Viewer(None)
    coordinator_id = coordinator_for_slack_user(desk, slack_user_id)
    return Viewer(coordinator_id) if coordinator_id else None


def listing(title: str, lines: list[str], empty: str) -> str:
    """A title and its lines, escaped, within a message's size."""
    if not lines:
        return f"{title}\n{empty}"
    shown = [f"• {escape(line)}" for line in lines[:LIST_MAX]]
    if len(lines) > LIST_MAX:
        shown.append(LIST_MORE.format(count=len(lines) - LIST_MAX))
    return f"{title}\n" + "\n".join(shown)[: TEXT_MAX - len(title) - 1]


def list_answer(services: Services, slack_user_id: str, verb: str, words: str) -> str:
    """What `today`, `week`, `pending` and `find` answer this member."""
    desk = services.desk
    viewer = viewer_of(desk, slack_user_id)
    if viewer is None:
        return NOT_REGISTERED
    whose = WHOSE_DESK if viewer.whole_desk else WHOSE_MINE
    now = services.clock.now()
    with services.db.session() as session:
        if verb == "today":
            start, end = desk_lists.day_window(now, 1)
            lines = desk_lists.appointments(session=session, desk=desk, viewer=viewer, start=start, end=end)
            return listing(TODAY_TITLE.format(whose=whose), lines, TODAY_EMPTY)
        if verb == "week":
            start, end = desk_lists.day_window(now, 7)
            lines = desk_lists.appointments(session=session, desk=desk, viewer=viewer, start=start, end=end)
            return listing(WEEK_TITLE.format(whose=whose), lines, WEEK_EMPTY)
        if verb == "pending":
            lines = desk_lists.pending(session=session, desk=desk, viewer=viewer)
            return listing(PENDING_TITLE.format(whose=whose), lines, PENDING_EMPTY)
        if len(words) < FIND_MIN:
            return FIND_TOO_SHORT
        lines = desk_lists.find(session=session, desk=desk, words=words)
        return listing(FIND_TITLE.format(words=escape(words[:MAX_ECHO])), lines, FIND_EMPTY)


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers the slash command; returns the commands registered."""

    @app.command(COMMAND)
    async def madoguchi_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        text = " ".join(str(command.get("text") or "").split())
        verb, _, words = text.partition(" ")
        verb = ALIASES.get(verb, verb.lower())
        if verb not in LISTS:
            await ack(response_type="ephemeral", text=command_answer(text))
            return
        await ack()  # within 3 s; the lists come through the response_url
        user = str(command.get("user_id") or "")
        answer = await anyio.to_thread.run_sync(list_answer, services, user, verb, words.strip())
        await respond(response_type="ephemeral", text=answer)

    return [COMMAND]
