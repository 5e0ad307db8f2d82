"""The App Home tab: what the app is for and what this member may do (later, their appointments)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from config import DeskConfig
from config.slack import coordinator_for_slack_user
from handlers.services import Services
from handlers.slack.events import on_event
from handlers.slack.texts import HELP, HOME_APPROVER, HOME_COORDINATOR, HOME_OTHER, HOME_TITLE

HEADER_MAX = 150  # Block Kit's limit on a header's text


def home_view(desk: DeskConfig, slack_user_id: str) -> dict[str, Any]:
    """The home tab's view for one member."""
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
            {"type": "divider"},
            {"type": "section", "text": {"type": "mrkdwn", "text": HELP}},
        ],
    }


def register(app: AsyncApp, services: Services) -> list[str]:
    """Publishes the home tab when a member opens it; returns the events registered."""

    async def publish_home(event: dict[str, Any], context: AsyncBoltContext, client: AsyncWebClient) -> None:
        if event.get("tab") not in (None, "home") or not isinstance(event.get("user"), str):
            return
        await client.views_publish(user_id=event["user"], view=home_view(services.desk, event["user"]))

    on_event(app, services, "app_home_opened", publish_home)
    return ["app_home_opened"]
