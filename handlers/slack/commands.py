"""The `/madoguchi` slash command: answered in the ack, ephemerally (only the one who typed it sees it)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from handlers.slack.texts import COMMAND, HELP, UNKNOWN_COMMAND

HELP_WORDS = {"", "help", "ヘルプ", "使い方"}
MAX_ECHO = 40  # characters of an unknown subcommand quoted back


def command_answer(text: str) -> str:
    """The help, after a note when the command asked for something it does not do."""
    asked = " ".join(text.split())
    if asked.lower() in HELP_WORDS:
        return HELP
    return UNKNOWN_COMMAND.format(text=asked[:MAX_ECHO]) + "\n" + HELP


def register(app: AsyncApp) -> list[str]:
    """Registers the slash command; returns the commands registered."""

    @app.command(COMMAND)
    async def madoguchi_command(ack: AsyncAck, command: dict[str, Any]) -> None:
        await ack(response_type="ephemeral", text=command_answer(str(command.get("text") or "")))

    return [COMMAND]
