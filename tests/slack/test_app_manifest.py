"""The app manifest (docs/slack-app.yaml) asks for exactly the scopes the code uses: those of the Web API
methods called in handlers/slack, of the events the app listens to and of its slash commands; its request
URLs are the one route the app serves."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml

import handlers.slack
from handlers.services import Services
from handlers.slack.bolt_app import ROUTE, build_slack_app
from tests.conftest import make_settings
from tests.slack.signing import SIGNING_SECRET
from tests.slack.standin import BOT_TOKEN

MANIFEST = Path(__file__).resolve().parents[2] / "docs" / "slack-app.yaml"
SOURCES = Path(handlers.slack.__file__).parent

# Slack's documented scope of each Web API method (none: it needs only the bot token). A method the code
# calls that is not listed here fails the test: look it up (docs.slack.dev/reference/methods) and add it.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "views.publish": (),
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.getPermalink": (),
    "conversations.history": ("channels:history",),
    "conversations.replies": ("channels:history",),
    "conversations.open": ("im:write",),
    "users.info": ("users:read",),
    "files.upload_v2": ("files:write",),
}
# The events the code listens to, as the manifest names them, and their scopes.
EVENT_SCOPES: dict[str, dict[str, tuple[str, ...]]] = {
    "app_home_opened": {"app_home_opened": ()},
    "message": {"message.channels": ("channels:history",)},
}
# slack_sdk names methods chat_postMessage, views_publish, files_upload_v2; bolt's say() posts a message.
_CALL = re.compile(
    r"\b(admin|apps|auth|bots|chat|conversations|files|pins|reactions|team|users|views)_(\w+)\("
)
_SAY = re.compile(r"\bsay\(")
_API_CALL = re.compile(r"api_call\(\s*[\"']([\w.]+)[\"']")


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def methods_called() -> set[str]:
    """The Web API methods called anywhere in handlers/slack."""
    found: set[str] = set()
    for source in SOURCES.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        found |= {f"{family}.{name}" for family, name in _CALL.findall(text)}
        found |= set(_API_CALL.findall(text))
        if _SAY.search(text):
            found.add("chat.postMessage")
    return found


def registered(services: Services) -> tuple[list[str], list[str]]:
    settings = make_settings(
        services.settings.database_url,
        services.settings.var_dir,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_BOT_TOKEN=BOT_TOKEN,
    )
    app = build_slack_app(replace(services, settings=settings))
    return app.events, app.commands


def test_the_scan_finds_the_calls_it_must_map() -> None:
    sample = "await client.views_publish(user_id=u)\nclient.chat_postMessage(channel=c)\nfiles_upload_v2("
    assert {f"{a}.{b}" for a, b in _CALL.findall(sample)} == {
        "views.publish",
        "chat.postMessage",
        "files.upload_v2",
    }
    assert _API_CALL.findall('client.api_call("bookmarks.add", json=j)') == ["bookmarks.add"]
    assert "views.publish" in methods_called()


def test_the_manifest_asks_for_exactly_the_scopes_the_code_uses(services: Services) -> None:
    events, commands = registered(services)
    unknown = methods_called() - METHOD_SCOPES.keys()
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES (and to the manifest)"
    needed = {scope for method in methods_called() for scope in METHOD_SCOPES[method]}
    manifest_events: set[str] = set()
    for event in events:
        assert event in EVENT_SCOPES, (
            f"add the manifest name and scopes of the {event!r} event to EVENT_SCOPES"
        )
        for name, scopes in EVENT_SCOPES[event].items():
            manifest_events.add(name)
            needed |= set(scopes)
    if commands:
        needed.add("commands")
    shipped = manifest()
    assert sorted(shipped["oauth_config"]["scopes"]["bot"]) == sorted(needed)
    assert "user" not in shipped["oauth_config"]["scopes"]
    assert sorted(shipped["settings"]["event_subscriptions"]["bot_events"]) == sorted(manifest_events)
    assert sorted(c["command"] for c in shipped["features"]["slash_commands"]) == sorted(commands)


def test_every_request_url_is_the_one_route_and_http_mode_is_used() -> None:
    shipped = manifest()
    urls = [
        shipped["settings"]["event_subscriptions"]["request_url"],
        shipped["settings"]["interactivity"]["request_url"],
        *(c["url"] for c in shipped["features"]["slash_commands"]),
    ]
    assert all(url.startswith("https://") and url.endswith(ROUTE) for url in urls), urls
    assert shipped["settings"]["socket_mode_enabled"] is False
    assert shipped["settings"]["interactivity"]["is_enabled"] is True
    assert shipped["features"]["app_home"]["home_tab_enabled"] is True  # app_home_opened needs the tab
    assert len(shipped["display_information"]["name"]) <= 35


def test_the_messages_tab_is_on_for_the_notices_sent_to_coordinators_and_read_only() -> None:
    """Direct notices (the morning digest) go to a coordinator's user id, which is the app's Messages tab
    (handlers/slack/notices.py): with the tab off, as Slack sets new apps, they would never arrive."""
    notices = (SOURCES / "notices.py").read_text(encoding="utf-8")
    assert "Place(coordinator.slack_user_id" in notices  # the code does post to users' DMs
    app_home = manifest()["features"]["app_home"]
    assert app_home["messages_tab_enabled"] is True
    assert app_home["messages_tab_read_only_enabled"] is True  # no DM is read: replies go nowhere
