"""Slack fixtures: the Web API stand-in on a free port, and the real slack_sdk client pointed at it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.engine import IntakeEngine
from bot.sending import Outbound
from config import DeskConfig
from handlers.line.sender import LineSender
from handlers.slack.client import posting_client
from handlers.slack.delivery import SlackDelivery
from handlers.slack.sender import SlackCoordinatorSender
from storage.channels import Channel
from storage.clock import FixedClock
from storage.database import Database
from tests.conftest import DatabaseFactory, make_settings
from tests.line.conftest import InProcessServer
from tests.slack.appserver import slack_env, start_server
from tests.slack.standin import BOT_TOKEN, INTAKE_CHANNEL, SlackStandIn


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
    slack: SlackStandIn, fresh_database_url: DatabaseFactory, tmp_path: Path
) -> Iterator[Callable[..., InProcessServer]]:
    """Starts servers with Slack configured, talking to the stand-in (on a new database unless one is
    given); all are stopped afterwards, and the senders made with them closed."""
    servers: list[InProcessServer] = []

    def start(database_url: str | None = None, **env: str) -> InProcessServer:
        url = database_url
        if url is None:
            url = fresh_database_url(migrated=True)
        server = start_server({**slack_env(url, slack.api_url, str(tmp_path / "var")), **env})
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def outbound(clock: FixedClock) -> Outbound:
    return Outbound(senders={Channel.LINE: LineSender(clock)}, coordinators=SlackCoordinatorSender(clock))


@pytest.fixture
def engine(desk: DeskConfig, clock: FixedClock, outbound: Outbound) -> IntakeEngine:
    return IntakeEngine(desk, clock, outbound=outbound)


@pytest.fixture
def delivery(
    db: Database, slack: SlackStandIn, clock: FixedClock, desk: DeskConfig, tmp_path: Path
) -> Iterator[SlackDelivery]:
    settings = make_settings(
        db.url,
        tmp_path,
        MADOGUCHI_LINE_LEASE="2",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_API_BASE_URL=slack.api_url,
    )
    # The delivery's own client, which retries a 429 only: a post whose answer was lost is not repeated blindly.
    yield SlackDelivery(
        db=db,
        client=posting_client(settings),
        clock=clock,
        desk=desk,
        channel=INTAKE_CHANNEL,
        tuning=settings.line_tuning,
        post_interval=0,
    )
