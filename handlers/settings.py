"""The process settings: the environment (and a .env file) as DESIGN.md's public contract names it."""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, PrivateAttr, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from storage.crypto import Keyring, PIIKeyError, generate_key

log = logging.getLogger(__name__)

PUBLIC_URL = re.compile(r"https?://[^\s/?#]+(/[^\s?#]*)?")
SLACK_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{8,}")  # a public (C) or private (G, older ones) channel
PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "your-secret", "dummy"}


class StartupError(Exception):
    """The process cannot start; the message names what is missing or wrong."""


@dataclass(frozen=True)
class DeliveryTuning:
    """The timings of the outbox's drain and delivery: Settings' MADOGUCHI_LINE_* values (see there). The
    LINE delivery has them from its start; the Slack card delivery shares its lease, backoff and poll."""

    connect_timeout: float
    read_timeout: float
    lease: float
    retry_base: float
    retry_cap: float
    max_attempts: int
    resume_interval: float
    resume_within: float
    reorder_window: float
    poll: float
    senders: int
    event_attempts: int
    loading_after: float


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///./var/madoguchi.db", alias="DATABASE_URL")
    madoguchi_config: str | None = Field(None, alias="MADOGUCHI_CONFIG")
    madoguchi_demo: bool | None = Field(None, alias="MADOGUCHI_DEMO")
    line_channel_secret: SecretStr | None = Field(None, alias="LINE_CHANNEL_SECRET")
    line_channel_access_token: SecretStr | None = Field(None, alias="LINE_CHANNEL_ACCESS_TOKEN")
    line_api_base_url: str = Field("https://api.line.me", alias="LINE_API_BASE_URL")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_api_base_url: str = Field("https://slack.com/api/", alias="SLACK_API_BASE_URL")
    slack_intake_channel: str | None = Field(None, alias="SLACK_INTAKE_CHANNEL")
    madoguchi_pii_key: SecretStr | None = Field(None, alias="MADOGUCHI_PII_KEY")
    madoguchi_admin_token: SecretStr | None = Field(None, alias="MADOGUCHI_ADMIN_TOKEN")
    port: int = Field(8000, alias="PORT")
    # Where owners (and LINE and Slack) reach this server from outside: the web form's links, and the
    # webhook URLs start-up names for the LINE and Slack consoles. Default: http://127.0.0.1:$PORT.
    madoguchi_public_url: str | None = Field(None, alias="MADOGUCHI_PUBLIC_URL")
    var_dir: Path = Field(Path("var"), alias="MADOGUCHI_VAR_DIR")
    raw_event_retention_days: int = Field(30, alias="MADOGUCHI_RAW_EVENT_RETENTION_DAYS")
    # Timings of the LINE drain and delivery (the defaults suit production; tests make them short).
    line_connect_timeout: float = Field(3.0, gt=0, alias="MADOGUCHI_LINE_CONNECT_TIMEOUT")
    line_read_timeout: float = Field(10.0, gt=0, alias="MADOGUCHI_LINE_READ_TIMEOUT")
    # Longer than one call can take, so two processes never send one row at once.
    line_lease: float = Field(30.0, gt=0, alias="MADOGUCHI_LINE_LEASE")
    line_retry_base: float = Field(2.0, ge=0, alias="MADOGUCHI_LINE_RETRY_BASE")
    line_retry_cap: float = Field(300.0, ge=0, alias="MADOGUCHI_LINE_RETRY_CAP")
    line_max_attempts: int = Field(8, ge=1, alias="MADOGUCHI_LINE_MAX_ATTEMPTS")
    # Rows parked as failed go out again once LINE answers (any call, or a probe with the oldest of them this
    # often while nothing else is sent), within LINE's 24 hours for a retry key; later only by hand.
    line_resume_interval: float = Field(60.0, gt=0, alias="MADOGUCHI_LINE_RESUME_INTERVAL")
    line_resume_within: float = Field(23 * 3600.0, gt=0, alias="MADOGUCHI_LINE_RESUME_WITHIN")
    # How long an event waits for an earlier one of the same user.
    line_reorder_window: float = Field(0.2, ge=0, alias="MADOGUCHI_LINE_REORDER_WINDOW")
    # How often idle threads look for work stored by other processes.
    line_poll: float = Field(0.5, gt=0, alias="MADOGUCHI_LINE_POLL")
    # HTTP calls in flight; each claimed row goes straight to an idle one.
    line_senders: int = Field(8, ge=1, alias="MADOGUCHI_LINE_SENDERS")
    line_event_attempts: int = Field(5, ge=1, alias="MADOGUCHI_LINE_EVENT_ATTEMPTS")
    # Show the loading animation to an owner kept waiting this long.
    line_loading_after: float = Field(1.0, ge=0, alias="MADOGUCHI_LINE_LOADING_AFTER")
    _admin_token_file: Path | None = PrivateAttr(None)

    @property
    def demo(self) -> bool:
        """MADOGUCHI_DEMO if set; otherwise on only when no LINE credential is set at all (half a pair is a
        channel being set up: it must stop start-up, not slip into a demo whose webhook loses every event)."""
        if self.madoguchi_demo is not None:
            return self.madoguchi_demo
        return not (self.line_channel_secret or self.line_channel_access_token)

    @property
    def line_tuning(self) -> DeliveryTuning:
        """The MADOGUCHI_LINE_* timings, as the LINE runtime takes them."""
        return DeliveryTuning(
            connect_timeout=self.line_connect_timeout,
            read_timeout=self.line_read_timeout,
            lease=self.line_lease,
            retry_base=self.line_retry_base,
            retry_cap=self.line_retry_cap,
            max_attempts=self.line_max_attempts,
            resume_interval=self.line_resume_interval,
            resume_within=self.line_resume_within,
            reorder_window=self.line_reorder_window,
            poll=self.line_poll,
            senders=self.line_senders,
            event_attempts=self.line_event_attempts,
            loading_after=self.line_loading_after,
        )

    @property
    def public_url(self) -> str:
        """MADOGUCHI_PUBLIC_URL without a trailing slash, or this server at http://127.0.0.1:$PORT."""
        if self.madoguchi_public_url and self.madoguchi_public_url.strip():
            return self.madoguchi_public_url.strip().rstrip("/")
        return f"http://127.0.0.1:{self.port}"

    @field_validator("madoguchi_public_url")
    @classmethod
    def _absolute(cls, value: str | None) -> str | None:
        if value and value.strip() and not PUBLIC_URL.fullmatch(value.strip()):
            raise ValueError("an absolute http(s) address without a query, e.g. https://madoguchi.example.jp")
        return value

    @property
    def line_configured(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_signing_secret and self.slack_bot_token)

    def _credentials(self) -> dict[str, SecretStr | None]:
        return {
            "LINE_CHANNEL_SECRET": self.line_channel_secret,
            "LINE_CHANNEL_ACCESS_TOKEN": self.line_channel_access_token,
            "SLACK_SIGNING_SECRET": self.slack_signing_secret,
            "SLACK_BOT_TOKEN": self.slack_bot_token,
        }

    def check(self) -> list[str]:
        """Warnings for a start that may go on; raises StartupError for one that may not."""
        warnings: list[str] = []
        given = self._credentials()
        for first, second in (
            ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"),
            ("SLACK_SIGNING_SECRET", "SLACK_BOT_TOKEN"),
        ):
            if bool(given[first]) != bool(given[second]):
                have, lacking = (first, second) if given[first] else (second, first)
                raise StartupError(f"{have} is set but {lacking} is not: set both, or neither")
        if self.demo:
            credentials = [name for name, value in given.items() if value]
            if credentials:
                warnings.append(self._demo_with_credentials(credentials))
            return warnings
        missing = [
            name
            for name, value in (
                ("LINE_CHANNEL_SECRET", self.line_channel_secret),
                ("LINE_CHANNEL_ACCESS_TOKEN", self.line_channel_access_token),
                ("MADOGUCHI_PII_KEY", self.madoguchi_pii_key),
            )
            if not value
        ]
        if missing:
            why = "MADOGUCHI_DEMO=0" if self.madoguchi_demo is not None else "a LINE channel (not a demo)"
            hint = " (`madoguchi keys generate` makes a key)" if "MADOGUCHI_PII_KEY" in missing else ""
            raise StartupError(f"{why} needs {', '.join(missing)} to be set{hint}")
        for name, value in (
            ("LINE_CHANNEL_SECRET", self.line_channel_secret),
            ("LINE_CHANNEL_ACCESS_TOKEN", self.line_channel_access_token),
        ):
            if value and value.get_secret_value().strip().lower() in PLACEHOLDERS:
                raise StartupError(f"{name} is a placeholder; set the real value")
        if not self.public_url.startswith("https://"):
            warnings.append(
                f"MADOGUCHI_PUBLIC_URL is {self.public_url}: LINE and Slack deliver only to an https "
                "address, and owners' links point there; set the address this server is reached at"
            )
        if not self.slack_configured:
            warnings.append(
                "Slack is not configured (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN): "
                "coordinators will not get approval cards"
            )
        elif not self.slack_intake_channel:
            warnings.append(
                "SLACK_INTAKE_CHANNEL is not set: coordinators will not get approval cards, "
                "and the monthly summary has nowhere to go"
            )
        elif not SLACK_CHANNEL_ID.fullmatch(self.slack_intake_channel):
            warnings.append(
                f"SLACK_INTAKE_CHANNEL {self.slack_intake_channel!r} does not look like a channel id: set the "
                "id (e.g. C0123456789, at the bottom of the channel's details in Slack), not its name; a card "
                "posted before cannot be found in the channel's history by its name"
            )
        return warnings

    def _demo_with_credentials(self, credentials: list[str]) -> str:
        why = "MADOGUCHI_DEMO=1" if self.madoguchi_demo else "no LINE credentials"
        consequences = [
            "the browser simulator at / is public: anyone who reaches this server can chat as an owner "
            "and see every request in the coordinator's pane"
        ]
        if not self.madoguchi_pii_key:
            consequences.append(
                f"personal data is encrypted with a key generated into {self.var_dir / 'pii.key'}, "
                "not MADOGUCHI_PII_KEY"
            )
        if not self.madoguchi_admin_token:
            consequences.append(f"the admin API opens with a token generated into {self.admin_token_path}")
        return (
            f"DEMO MODE ({why}) although {', '.join(credentials)} are set: "
            + "; ".join(consequences)
            + ". To run the desk, unset MADOGUCHI_DEMO (or set it to 0)"
        )

    def demo_reset_hint(self) -> str:
        """How to start a demo afresh: what holds its data."""
        url = make_url(self.database_url)
        database = Path(url.database) if url.get_backend_name() == "sqlite" and url.database else None
        if database is not None and database.resolve().is_relative_to(self.var_dir.resolve()):
            return f"delete {self.var_dir}/ (the SQLite database, the PII key and the admin token)"
        return (
            f"delete {self.var_dir}/ (the PII key and the admin token) and empty the database of DATABASE_URL"
        )

    @property
    def admin_token_path(self) -> Path:
        return self.var_dir / "admin.token"

    @property
    def admin_token_file(self) -> Path | None:
        """The file the admin token was generated into (demo mode only), or None."""
        return self._admin_token_file

    def open_demo_admin_api(self) -> None:
        """In demo mode without MADOGUCHI_ADMIN_TOKEN, the admin API's token is generated once into
        var/admin.token; outside demo mode nothing is generated (the admin API stays closed)."""
        if not self.demo or self.madoguchi_admin_token:
            return
        token = self._demo_secret(self.admin_token_path, lambda: secrets.token_urlsafe(32), "an admin token")
        self.madoguchi_admin_token = SecretStr(token)
        self._admin_token_file = self.admin_token_path

    def keyring(self) -> Keyring:
        """The PII keyring: from MADOGUCHI_PII_KEY, or in demo mode generated once into var/pii.key."""
        if self.madoguchi_pii_key:
            value = self.madoguchi_pii_key.get_secret_value()
        elif self.demo:
            value = self._demo_key()
        else:
            raise StartupError("MADOGUCHI_PII_KEY is not set (generate one with `madoguchi keys generate`)")
        try:
            return Keyring.from_setting(value)
        except PIIKeyError as exc:
            raise StartupError(f"MADOGUCHI_PII_KEY: {exc}") from exc

    def _demo_key(self) -> str:
        return self._demo_secret(self.var_dir / "pii.key", generate_key, "a PII key")

    @staticmethod
    def _demo_secret(path: Path, make: Callable[[], str], what: str) -> str:
        """A secret kept in a file of the var dir, made (readable by this user only) the first time."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process made it a moment ago
            else:
                with os.fdopen(fd, "w", encoding="ascii") as out:
                    out.write(make() + "\n")
                log.info("demo mode: generated %s in %s", what, path)
        return path.read_text(encoding="ascii").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
