"""The composition root: reads the settings and wires the desk, storage and the engine together."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from bot.engine import IntakeEngine
from bot.reminders import install_reminders
from bot.sending import CoordinatorSender, Outbound, Sender
from config import ConfigError, DeskConfig, load_desk_config
from handlers.line.client import LineApi
from handlers.line.render import CAPACITY as LINE_CAPACITY
from handlers.line.sender import LineSender
from handlers.settings import Settings, StartupError, get_settings
from handlers.slack.sender import SlackCoordinatorSender
from handlers.web.sim_sender import SimulatorSender
from handlers.web.sim_thread import SimulatorDeskSender
from storage import models  # noqa: F401  (every table in the metadata the key check reads)
from storage.base import Base
from storage.channels import Channel
from storage.clock import Clock, SystemClock
from storage.crypto import KeyCheck, check_stored_keys, configure_keyring
from storage.database import Database, schema_revisions, upgrade_schema

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
    # The senders domain code reaches contacts and coordinators through (build_outbound's, when none is given).
    outbound: Outbound = field(default_factory=Outbound)

    def __post_init__(self) -> None:
        if not self.outbound.senders:
            self.outbound = build_outbound(self.clock, self.settings)


def build_outbound(clock: Clock, settings: Settings | None = None) -> Outbound:
    """The senders of every channel this code speaks on: LINE's, the simulator's in demo mode, and the
    coordinators' Slack cards when Slack and its intake channel are configured (mail's comes with its issue)."""
    slack = settings is not None and settings.slack_configured and bool(settings.slack_intake_channel)
    senders: dict[Channel, Sender] = {Channel.LINE: LineSender(clock)}
    coordinators: CoordinatorSender | None = SlackCoordinatorSender(clock) if slack else None
    if settings is not None and settings.demo:  # what LINE would push reaches the simulated phone
        senders[Channel.SIMULATOR] = SimulatorSender(clock)
        if coordinators is None:  # and what Slack would get, the coordinator's pane (its card's thread)
            coordinators = SimulatorDeskSender(clock)
    return Outbound(
        senders=senders,
        coordinators=coordinators,
        # Channels answered at once, with no sender: the simulator shows the LINE chat, buttons and all.
        capacities={Channel.SIMULATOR: LINE_CAPACITY, Channel.CLI: LINE_CAPACITY},
    )


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
    own_db = db is None
    db = db or Database(settings.database_url)
    try:
        ensure_schema(db, settings)
    except StartupError:
        if own_db:
            db.dispose()
        raise
    warn_if_stored_data_does_not_decrypt(db, settings)
    install_reminders(desk.reminders)  # a confirmed booking owes its owner reminders
    outbound = build_outbound(clock, settings)
    return Services(
        settings=settings,
        desk=desk,
        db=db,
        clock=clock,
        engine=IntakeEngine(desk, clock, outbound=outbound),
        line_api=_line_api(settings),
        outbound=outbound,
    )


def ensure_schema(db: Database, settings: Settings) -> None:
    """Stops start-up, saying what to run, when the database is not at this code's migration; in demo mode
    the embedded SQLite database is migrated here instead. A database that does not answer is left to
    /healthz."""
    try:
        current, head = schema_revisions(db)
    except SQLAlchemyError as exc:
        log.warning("database schema not checked: the database did not answer (%s)", type(exc).__name__)
        return
    if current == head:
        return
    if settings.demo and db.is_sqlite:
        upgrade_schema(db.url)
        log.info("demo mode: migrated the SQLite database to revision %s", head)
        return
    raise StartupError(
        f"the database schema is at revision {current or '(none)'}, this version needs {head}: "
        "run `madoguchi db upgrade` first"
    )


def warn_if_stored_data_does_not_decrypt(db: Database, settings: Settings) -> KeyCheck | None:
    """Tries the configured keys on the newest encrypted values of every table, and says at WARNING (counts
    and table names only) when some do not decrypt; None when the database could not be read."""
    try:
        with db.engine.connect().execution_options(sqlite_read_only=True) as connection:
            result = check_stored_keys(connection=connection, metadata=Base.metadata)
    except SQLAlchemyError as exc:
        log.info("stored data not checked against the PII keys (%s)", type(exc).__name__)
        return None
    if result.failed:
        tables = ", ".join(f"{name} {count}" for name, count in sorted(result.failed_by_table.items()))
        advice = (
            "If MADOGUCHI_PII_KEY was changed, put the new key first and keep the old one after it "
            "(comma-separated): every key listed decrypts, the first encrypts"
        )
        if settings.demo and not settings.madoguchi_pii_key:
            advice = (
                f"In demo mode the key is {settings.var_dir / 'pii.key'}, made when it was missing: data "
                f"written under an earlier one cannot be read. To start the demo afresh, "
                f"{settings.demo_reset_hint()}"
            )
        log.warning(
            "stored personal data does not decrypt with the configured keys: %d of the %d newest encrypted "
            "values checked (%s). The admin API shows such fields as null and names them in `undecryptable`. "
            "%s",
            result.failed,
            result.checked,
            tables,
            advice,
        )
    return result


def _line_api(settings: Settings) -> LineApi | None:
    if not (settings.line_configured and settings.line_channel_access_token):
        return None
    tuning = settings.line_tuning
    return LineApi(
        base_url=settings.line_api_base_url,
        access_token=settings.line_channel_access_token.get_secret_value(),
        connect_timeout=tuning.connect_timeout,
        read_timeout=tuning.read_timeout,
        pool_size=tuning.senders + 2,
    )
