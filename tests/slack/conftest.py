"""Slack fixtures: the Web API stand-in on a free port, and the real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from config import DeskConfig
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
