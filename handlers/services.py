"""The composition root: reads the settings and wires the desk, storage and the engine together."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.engine import IntakeEngine
from config import ConfigError, DeskConfig, load_desk_config
from handlers.line.client import LineApi
from handlers.line.tuning import LineTuning
from handlers.settings import Settings, StartupError, get_settings
from storage.clock import Clock, SystemClock
from storage.crypto import configure_keyring
from storage.database import Database

log = logging.getLogger(__name__)


@dataclass
class Services:
    """Everything a request handler, the CLI or a job needs, built once per process."""

    settings: Settings
    desk: DeskConfig
    db: Database
    clock: Clock
    engine: IntakeEngine
    line_api: LineApi | None = None  # the Messaging API client, when LINE is configured


def build_services(
    settings: Settings | None = None, *, clock: Clock | None = None, db: Database | None = None
) -> Services:
    """Checks the settings and builds the services; raises StartupError with a clear message."""
    settings = settings or get_settings()
    for warning in settings.check():
        log.warning("%s", warning)
    configure_keyring(settings.keyring())
    try:
        desk = load_desk_config(settings.madoguchi_config)
    except ConfigError as exc:
        raise StartupError(f"desk configuration: {exc}") from exc
    clock = clock or SystemClock()
    db = db or Database(settings.database_url)
    return Services(
        settings=settings,
        desk=desk,
        db=db,
        clock=clock,
        engine=IntakeEngine(desk, clock),
        line_api=_line_api(settings),
    )


def _line_api(settings: Settings) -> LineApi | None:
    if not (settings.line_configured and settings.line_channel_access_token):
        return None
    tuning = LineTuning()  # type: ignore[call-arg]
    return LineApi(
        base_url=settings.line_api_base_url,
        access_token=settings.line_channel_access_token.get_secret_value(),
        connect_timeout=tuning.connect_timeout,
        read_timeout=tuning.read_timeout,
        pool_size=tuning.senders + 2,
    )
