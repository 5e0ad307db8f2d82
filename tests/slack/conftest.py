"""Slack fixtures: the Web API stand-in on a free port, and the real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from config import DeskConfig
from storage.database import upgrade_schema
from tests.line.conftest import InProcessServer
from tests.slack.appserver import slack_env, start_server
from tests.slack.standin import BOT_TOKEN, SlackStandIn


@pytest.fixture
def slack(desk: DeskConfig) -> Iterator[SlackStandIn]:
    """The stand-in, its workspace knowing the shipped desk's coordinators that have a Slack id."""
    server = SlackStandIn()
    for coordinator in desk.scheduling.coordinators:
        if coordinator.slack_user_id:
            server.add_user(coordinator.slack_user_id, coordinator.name, email=coordinator.email or None)
    yield server.start()
    server.close()


@pytest.fixture
def slack_client(slack: SlackStandIn) -> WebClient:
    """slack_sdk's WebClient with the app's bot token, talking to the stand-in."""
    return WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=5)


@pytest.fixture
def slack_servers(
    slack: SlackStandIn, fresh_database_url: Callable[[], str], tmp_path: Path
) -> Iterator[Callable[..., InProcessServer]]:
    """Starts servers with Slack configured, talking to the stand-in (on a new database unless one is
    given); all are stopped afterwards, and the senders made with them closed."""
    servers: list[InProcessServer] = []

    def start(database_url: str | None = None, **env: str) -> InProcessServer:
        url = database_url
        if url is None:
            url = fresh_database_url()
            upgrade_schema(url)
        server = start_server({**slack_env(url, slack.api_url, str(tmp_path / "var")), **env})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
