"""A slow Slack in the same process as the LINE webhook: the Slack listeners wait on Slack off the event
loop's critical path, so LINE's webhooks are still answered at once (bolt's synchronous App would not)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest

from tests.line.conftest import InProcessServer, LineUser
from tests.line.standin import LineStandIn
from tests.slack.appserver import SlackSender, home_opened, members
from tests.slack.standin import SlackStandIn

SLOW = 3.0  # seconds each Slack call takes


@pytest.fixture
def line() -> Iterator[LineStandIn]:
    server = LineStandIn().start()
    yield server
    server.close()


def test_a_slow_slack_api_does_not_delay_line_webhook_acks(
    slack_servers: Callable[..., InProcessServer], slack: SlackStandIn, line: LineStandIn
) -> None:
    server = slack_servers(LINE_API_BASE_URL=line.url)
    sender = SlackSender(server.url)
    users = [LineUser(server.url, line) for _ in range(6)]
    try:
        slack.delay(SLOW)
        started = time.monotonic()
        for member in members(slack, 4):  # four Slack listeners now wait on Slack, in this process
            assert sender.event(home_opened(member)).status_code == 200
        acks = []
        for user in users:
            sent = time.perf_counter()
            assert user.post(user.text("相談したい")).status_code == 200
            acks.append(time.perf_counter() - sent)
        answered_by = time.monotonic()
        assert max(acks) < 0.5, acks
        published = slack.wait_for_calls("views.publish", 4, timeout=15)
        assert all(c.ok for c in published)
        # Slack was still busy with every one of them while LINE was answered.
        assert answered_by < min(c.at for c in published) and answered_by - started < SLOW
        for user in users:
            assert "個人情報" in line.wait_for_deliveries(user.user_id, 1, timeout=15)[0].texts[0]
    finally:
        sender.close()
