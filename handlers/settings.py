"""The process settings: the environment (and a .env file) as DESIGN.md's public contract names it."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.crypto import Keyring, PIIKeyError, generate_key

log = logging.getLogger(__name__)

PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "your-secret", "dummy"}


class StartupError(Exception):
    """The process cannot start; the message names what is missing or wrong."""


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
    var_dir: Path = Field(Path("var"), alias="MADOGUCHI_VAR_DIR")
    raw_event_retention_days: int = Field(30, alias="MADOGUCHI_RAW_EVENT_RETENTION_DAYS")

    @model_validator(mode="after")
    def _demo_default(self) -> Settings:
        if self.madoguchi_demo is None:
            self.madoguchi_demo = not (self.line_channel_secret and self.line_channel_access_token)
        return self

    @property
    def demo(self) -> bool:
        return bool(self.madoguchi_demo)

    @property
    def line_configured(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_signing_secret and self.slack_bot_token)

    def check(self) -> list[str]:
        """Warnings for a start that may go on; raises StartupError for one that may not."""
        warnings: list[str] = []
        if self.demo:
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
            raise StartupError("MADOGUCHI_DEMO=0 needs " + ", ".join(missing) + " to be set")
        for name, value in (
            ("LINE_CHANNEL_SECRET", self.line_channel_secret),
            ("LINE_CHANNEL_ACCESS_TOKEN", self.line_channel_access_token),
        ):
            if value and value.get_secret_value().strip().lower() in PLACEHOLDERS:
                raise StartupError(f"{name} is a placeholder; set the real value")
        if not self.slack_configured:
            warnings.append(
                "Slack is not configured (SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN): "
                "coordinators will not get approval cards"
            )
        return warnings

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
        path = self.var_dir / "pii.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generate_key() + "\n", encoding="ascii")
            path.chmod(0o600)
            log.info("demo mode: generated a PII key in %s", path)
        return path.read_text(encoding="ascii").strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]
