"""The channels a contact, an event, a message or a log line belongs to: one name for each, stored as is."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    LINE = "line"  # the LINE Official Account (webhook and Messaging API)
    SIMULATOR = "simulator"  # the browser simulator of the LINE chat
    WEB = "web"  # the web intake form
    CLI = "cli"  # `madoguchi chat` in a terminal
    SLACK = "slack"  # the coordinators' workspace
    MAIL = "mail"  # e-mail (later)
