"""The App Home tab: what the app is for and what this member may do (later, their appointments)."""

from __future__ import annotations

from typing import Any

import anyio
from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot import desk_lists
from config import DeskConfig
from config.slack import coordinator_for_slack_user
from handlers.services import Services
from handlers.slack.commands import listing, viewer_of
from handlers.slack.events import on_event
from handlers.slack.texts import (
    HELP,
    HOME_APPROVER,
    HOME_COORDINATOR,
    HOME_OTHER,
    HOME_TITLE,
    HOME_UPCOMING,
    HOME_UPCOMING_EMPTY,
    PENDING_EMPTY,
    PENDING_TITLE,
    WHOSE_DESK,
    WHOSE_MINE,
)

HEADER_MAX = 150  # Block Kit's limit on a header's text


HOME_DAYS = 14  # how far ahead the home tab shows appointments


def home_lists(services: Services, slack_user_id: str) -> list[dict[str, Any]]:
    """The member's upcoming appointments and the requests waiting for them (none for a member who is
    neither a coordinator nor an approver)."""
    viewer = viewer_of(services.desk, slack_user_id)
    if viewer is None:
        return []
    whose = WHOSE_DESK if viewer.whole_desk else WHOSE_MINE
    with services.db.session() as session:
        now = services.clock.now()
        soon = desk_lists.upcoming(
            session=session, desk=services.desk, viewer=viewer, now=now, days=HOME_DAYS
        )
        waiting = desk_lists.pending(session=session, desk=services.desk, viewer=viewer)
    return [
        {"type": "divider"},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": listing(HOME_UPCOMING, soon, HOME_UPCOMING_EMPTY)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": listing(PENDING_TITLE.format(whose=whose), waiting, PENDING_EMPTY),
            },
        },
    ]


def home_view(
    desk: DeskConfig, slack_user_id: str, lists: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The home tab's view for one member (with their lists, when given)."""
    coordinator_id = coordinator_for_slack_user(desk, slack_user_id)
    if slack_user_id in desk.slack.approvers:
        role = HOME_APPROVER
    elif coordinator_id is not None:
        name = next(c.name for c in desk.scheduling.coordinators if c.id == coordinator_id)
        role = HOME_COORDINATOR.format(name=name)
    else:
        role = HOME_OTHER
    return {
        "type": "home",
        "blocks": [
            {
                "type": "header",
                "text": {"type": "plain_text", "text": HOME_TITLE.format(desk=desk.desk.name)[:HEADER_MAX]},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": role}},
            *(lists or []),
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": HELP}},
        ],
    }


def register(app: AsyncApp, services: Services) -> list[str]:
    """Publishes the home tab when a member opens it; returns the events registered."""

    async def publish_home(event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home") or not isinstance(event.get("user"), str):
            return
        lists = await anyio.to_thread.run_sync(home_lists, services, event["user"])
        await client.views_publish(user_id=event["user"], view=home_view(services.desk, event["user"], lists))

    on_event(app, services, "app_home_opened", publish_home)
    return ["app_home_opened"]
