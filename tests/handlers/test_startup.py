"""Start-up: demo-mode rules, refusals that name what is missing, the demo PII key, a broken config."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from config import DeskConfig
from handlers.app import create_app, start_up_lines
from handlers.services import build_services
from handlers.settings import Settings, StartupError
from storage.clock import FixedClock
from storage.crypto import Keyring, configure_keyring
from storage.database import Database, schema_revisions, upgrade_schema
from storage.models import Consultation
from tests.conftest import ADMIN_TOKEN, TEST_KEY, DatabaseFactory, make_settings
from tests.line.conftest import free_port
from tests.storage.test_consultation_views import another_key, submit


def test_demo_mode_is_on_when_no_line_credentials_are_set(tmp_path: Path) -> None:
    env: dict[str, Any] = {"MADOGUCHI_VAR_DIR": str(tmp_path)}  # str values, parsed as the environment's
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]  # _env_file is BaseSettings.__init__'s; mypy sees the fields
    assert settings.demo
    line_env: dict[str, Any] = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    with_line = Settings(_env_file=None, **line_env)  # type: ignore[call-arg]  # _env_file is BaseSettings.__init__'s; mypy sees the fields
    assert not with_line.demo


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({}, "LINE_CHANNEL_SECRET"),
        (
            {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "MADOGUCHI_PII_KEY": None},
            "MADOGUCHI_PII_KEY",
        ),
        ({"LINE_CHANNEL_SECRET": "changeme", "LINE_CHANNEL_ACCESS_TOKEN": "t"}, "LINE_CHANNEL_SECRET"),
        (
            {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t", "MADOGUCHI_PII_KEY": "not-a-key"},
            "MADOGUCHI_PII_KEY",
        ),
    ],
)
def test_outside_demo_mode_a_missing_setting_stops_start_up(
    tmp_path: Path, extra: dict[str, object], named: str
) -> None:
    settings = make_settings("sqlite:///" + str(tmp_path / "x.db"), tmp_path, MADOGUCHI_DEMO=False, **extra)
    with pytest.raises(StartupError, match=named):
        build_services(settings)


def test_demo_mode_generates_the_pii_key_once(tmp_path: Path) -> None:
    settings = make_settings("sqlite:///" + str(tmp_path / "x.db"), tmp_path / "var", MADOGUCHI_PII_KEY=None)
    first = settings.keyring().encrypt("秘密")
    key_file = tmp_path / "var" / "pii.key"
    assert key_file.exists() and oct(key_file.stat().st_mode & 0o777) == "0o600"
    again = make_settings("sqlite:///" + str(tmp_path / "x.db"), tmp_path / "var", MADOGUCHI_PII_KEY=None)
    assert again.keyring().decrypt(first) == "秘密"


def test_a_broken_config_names_the_file_and_the_key(tmp_path: Path) -> None:
    broken = tmp_path / "desk.yaml"
    source = Path(__file__).parents[2] / "config" / "kagoshima.yaml"
    broken.write_text(
        source.read_text(encoding="utf-8").replace(
            "label: 製造業", "label: 製造業・ものづくり・食品加工・その他の製造"
        ),
        encoding="utf-8",
    )
    settings = make_settings("sqlite:///" + str(tmp_path / "x.db"), tmp_path, MADOGUCHI_CONFIG=str(broken))
    with pytest.raises(StartupError) as error:
        build_services(settings)
    assert (
        str(broken) in str(error.value) and "industries" in str(error.value) and "label" in str(error.value)
    )


def _cli(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "SLACK_", "MADOGUCHI_", "DATABASE_"))
    }
    clean.update(
        {"MADOGUCHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", **env}
    )
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=tmp_path,
        timeout=60,
    )


def test_the_command_refuses_to_serve_and_says_why(tmp_path: Path) -> None:
    result = _cli(["serve", "--port", "1"], tmp_path, MADOGUCHI_DEMO="0")
    assert result.returncode == 2
    assert "LINE_CHANNEL_SECRET" in result.stderr and "MADOGUCHI_PII_KEY" in result.stderr


LINE_PAIR = {"LINE_CHANNEL_SECRET": "s3cret-value", "LINE_CHANNEL_ACCESS_TOKEN": "t0ken-value"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LINE_CHANNEL_SECRET": "s3cret-value"},
            "LINE_CHANNEL_SECRET is set but LINE_CHANNEL_ACCESS_TOKEN is not",
        ),
        (
            {"LINE_CHANNEL_ACCESS_TOKEN": "t0ken-value"},
            "LINE_CHANNEL_ACCESS_TOKEN is set but LINE_CHANNEL_SECRET is not",
        ),
        (
            {"LINE_CHANNEL_SECRET": "s3cret-value", "MADOGUCHI_DEMO": "1"},
            "LINE_CHANNEL_SECRET is set but LINE_CHANNEL_ACCESS_TOKEN is not",
        ),
        ({"SLACK_SIGNING_SECRET": "s3cret-value"}, "SLACK_SIGNING_SECRET is set but SLACK_BOT_TOKEN is not"),
        (
            {**LINE_PAIR, "MADOGUCHI_PII_KEY": TEST_KEY, "SLACK_BOT_TOKEN": "xoxb-t0ken-value"},
            "SLACK_BOT_TOKEN is set but SLACK_SIGNING_SECRET is not",
        ),
        (LINE_PAIR, "a LINE channel (not a demo) needs MADOGUCHI_PII_KEY to be set"),
    ],
)
def test_half_set_credentials_stop_start_up_naming_the_missing_one(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    result = _cli(["serve", "--port", "1"], tmp_path, **env)
    assert result.returncode == 2, result.stderr
    assert f"cannot start: {message}" in result.stderr
    assert "s3cret-value" not in result.stderr and "t0ken-value" not in result.stderr
    # Nothing of a demo was started on the side: no key, no token, no simulator.
    assert not (tmp_path / "var" / "pii.key").exists() and not (tmp_path / "var" / "admin.token").exists()


@contextmanager
def serving(tmp_path: Path, **env: str) -> Iterator[tuple[str, Path]]:
    """`madoguchi serve` in a subprocess, yielding its address and log once it answers; stopped by Ctrl-C
    (SIGINT) afterwards, which must end it cleanly."""
    port = free_port()
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINE_", "SLACK_", "MADOGUCHI_", "DATABASE_"))
    }
    clean.update(
        {
            "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/var/madoguchi.db",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
    )
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "handlers.cli", "serve", "--port", str(port), "--no-scheduler"],
            env=clean,
            cwd=tmp_path,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base, log
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_mode_beside_real_credentials_says_so_loudly(tmp_path: Path) -> None:
    assert (
        _cli(["db", "upgrade"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/var/madoguchi.db").returncode
        == 0
    )
    with serving(
        tmp_path, MADOGUCHI_DEMO="1", LINE_API_BASE_URL=f"http://127.0.0.1:{free_port()}", **LINE_PAIR
    ) as (base, log):
        assert httpx.get(f"{base}/").status_code == 200  # the simulator is public: what the warning says
    [warning] = [line for line in log.read_text().splitlines() if " WARNING " in line and "DEMO MODE" in line]
    assert (
        "MADOGUCHI_DEMO=1" in warning and "LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN are set" in warning
    )
    assert "simulator at / is public" in warning
    assert "generated into " + str(tmp_path / "var" / "pii.key") in warning
    assert "generated into " + str(tmp_path / "var" / "admin.token") in warning
    assert "unset MADOGUCHI_DEMO" in warning
    assert "s3cret-value" not in log.read_text() and "t0ken-value" not in log.read_text()


def test_a_plain_demo_starts_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, keyring: Keyring
) -> None:
    caplog.set_level(logging.INFO)
    env: dict[str, Any] = {"MADOGUCHI_VAR_DIR": str(tmp_path / "var"), "DATABASE_URL": "sqlite://"}
    settings = Settings(_env_file=None, **env)  # type: ignore[call-arg]  # _env_file is BaseSettings.__init__'s; mypy sees the fields
    try:
        build_services(settings)
    finally:
        configure_keyring(keyring)  # build_services installed the demo's generated key
    assert settings.demo and not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "generated a PII key" in caplog.text


def test_demo_start_up_writes_an_admin_token_once_and_the_admin_api_accepts_it(tmp_path: Path) -> None:
    assert (
        _cli(["db", "upgrade"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/var/madoguchi.db").returncode
        == 0
    )
    token_file = tmp_path / "var" / "admin.token"
    with serving(tmp_path) as (base, log):
        token = token_file.read_text().strip()
        assert len(token) >= 32 and oct(token_file.stat().st_mode & 0o777) == "0o600"
        accepted = httpx.get(f"{base}/api/consultations", headers={"Authorization": f"Bearer {token}"})
        refused = httpx.get(f"{base}/api/consultations", headers={"Authorization": "Bearer guess"})
        assert httpx.get(f"{base}/form").status_code == 200
    assert accepted.status_code == 200 and accepted.json() == {"items": []}
    assert refused.status_code == 401
    text = log.read_text()
    assert f"the web form at {base}/form" in text and f"at {base}/, " in text
    assert f'curl -H "Authorization: Bearer $(cat {token_file})" {base}/api/consultations' in text
    assert f"stop with Ctrl-C; to start afresh, delete {tmp_path / 'var'}" in text
    assert token not in text  # the log says where the token is, never the token

    with serving(tmp_path) as (base, log):
        again = httpx.get(f"{base}/api/consultations", headers={"Authorization": f"Bearer {token}"})
    assert token_file.read_text().strip() == token and again.status_code == 200
    assert "generated an admin token" not in log.read_text()


def test_outside_demo_mode_no_admin_token_is_generated(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite://", tmp_path / "var", MADOGUCHI_DEMO=False, MADOGUCHI_ADMIN_TOKEN=None, **LINE_PAIR
    )
    settings.open_demo_admin_api()
    assert settings.madoguchi_admin_token is None and not (tmp_path / "var" / "admin.token").exists()
    lines = start_up_lines(settings, host="127.0.0.1", port=8000)
    assert "admin API closed: MADOGUCHI_ADMIN_TOKEN is not set" in lines
    assert (
        "the web form at http://127.0.0.1:8000/form, the LINE webhook at http://127.0.0.1:8000/line/webhook"
        in lines
    )


def test_serve_refuses_to_leave_answers_to_workers_on_sqlite(tmp_path: Path) -> None:
    result = _cli(["serve", "--port", "1", "--no-drain"], tmp_path)
    assert result.returncode == 2 and "--no-drain needs PostgreSQL" in result.stderr


def test_keys_generate_prints_a_usable_key(tmp_path: Path) -> None:
    result = _cli(["keys", "generate"], tmp_path)
    key = result.stdout.strip()
    assert result.returncode == 0 and len(key) == 44
    settings = make_settings("sqlite://", tmp_path, MADOGUCHI_PII_KEY=f"{key},{TEST_KEY}")
    assert settings.keyring().decrypt(settings.keyring().encrypt("x")) == "x"


def test_chat_completes_an_intake_in_the_terminal(tmp_path: Path) -> None:
    assert _cli(["db", "upgrade"], tmp_path).returncode == 0
    answers = [
        "相談したい",
        "1",
        "1",  # 法人・屋号あり
        "さつま商店",
        "薩摩 花子",
        "製造業",
        "霧島市",
        "なし（代表者のみ）",
        "1",
        "特になし",
        "ネットで注文を受けたい",
        "検討中",
        "電話",
        "0991234567",
        "1",
    ]
    result = subprocess.run(
        [sys.executable, "-m", "handlers.cli", "chat"],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "MADOGUCHI_"))},
            "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
            "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "ご相談を受け付けました" in result.stdout and "受付番号" in result.stdout


def test_start_up_says_when_stored_data_does_not_decrypt(
    fresh_database_url: DatabaseFactory,
    tmp_path: Path,
    desk: DeskConfig,
    clock: FixedClock,
    keyring: Keyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = fresh_database_url(migrated=True)
    db = Database(url)
    try:
        submit(desk, clock, db, "U-readable")
        build_services(make_settings(url, tmp_path / "var"), db=db)
        assert "does not decrypt" not in caplog.text
        with another_key(keyring):
            submit(desk, clock, db, "U-foreign")
        caplog.clear()
        services = build_services(make_settings(url, tmp_path / "var"), db=db)
        [warning] = [r for r in caplog.records if "does not decrypt" in r.getMessage()]
        with TestClient(create_app(services)) as client:
            listed = client.get("/api/consultations", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    finally:
        db.dispose()
    message = warning.getMessage()
    assert warning.levelno == logging.WARNING
    assert "the configured keys: " in message and " of the " in message and "consultation 4" in message
    assert "put the new key first and keep the old one after it" in message
    for secret in ("薩摩", "099-123-4567", "hanako@example.jp", "U-foreign", "紙の受発注"):
        assert secret not in caplog.text
    assert listed.status_code == 200 and len(listed.json()["items"]) == 2


def test_a_database_that_is_not_migrated_stops_start_up_saying_what_to_run(
    tmp_path: Path, fresh_database_url: DatabaseFactory
) -> None:
    url = fresh_database_url()
    settings = make_settings(
        url, tmp_path / "var", MADOGUCHI_DEMO=False, LINE_CHANNEL_SECRET="s", LINE_CHANNEL_ACCESS_TOKEN="t"
    )
    with pytest.raises(StartupError, match=r"run `madoguchi db upgrade` first"):
        build_services(settings)
    upgrade_schema(url)
    services = build_services(settings)
    assert services.db.ping()
    services.db.dispose()


def test_demo_mode_migrates_its_embedded_database_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    services = build_services(make_settings(url, tmp_path / "var"))
    current, head = schema_revisions(services.db)
    assert current == head
    with services.db.session() as session:
        assert session.scalars(select(Consultation)).all() == []
    services.db.dispose()


@pytest.mark.parametrize(
    ("channel", "said"),
    [
        (None, "SLACK_INTAKE_CHANNEL is not set: coordinators will not get approval cards"),
        ("#madoguchi", "SLACK_INTAKE_CHANNEL '#madoguchi' does not look like a channel id"),
        ("C0123456789", None),
    ],
)
def test_slack_without_an_intake_channel_id_is_said_at_start_up(
    tmp_path: Path, channel: str | None, said: str | None
) -> None:
    settings = make_settings(
        "sqlite:///" + str(tmp_path / "x.db"),
        tmp_path,
        MADOGUCHI_DEMO=False,
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-t",
        SLACK_INTAKE_CHANNEL=channel,
        MADOGUCHI_PUBLIC_URL="https://madoguchi.example.jp",
        **LINE_PAIR,
    )
    warnings = settings.check()
    if said is None:
        assert warnings == []
    else:
        [warning] = warnings
        assert warning.startswith(said)


def test_the_public_url_names_what_to_put_in_the_line_and_slack_consoles(tmp_path: Path) -> None:
    settings = make_settings(
        "sqlite://",
        tmp_path / "var",
        MADOGUCHI_DEMO=False,
        MADOGUCHI_PUBLIC_URL="https://madoguchi.example.jp/desk/",
        SLACK_SIGNING_SECRET="s",
        SLACK_BOT_TOKEN="xoxb-t",
        SLACK_INTAKE_CHANNEL="C0123456789",
        **LINE_PAIR,
    )
    assert settings.public_url == "https://madoguchi.example.jp/desk"
    assert settings.check() == []
    lines = start_up_lines(settings, host="0.0.0.0", port=8000)
    assert (
        "the web form at https://madoguchi.example.jp/desk/form, "
        "the LINE webhook at https://madoguchi.example.jp/desk/line/webhook"
    ) in lines
    assert any(line.endswith(": https://madoguchi.example.jp/desk/slack/events") for line in lines)


def test_without_an_https_public_url_start_up_warns_and_a_bad_one_stops_it(tmp_path: Path) -> None:
    plain = make_settings("sqlite://", tmp_path / "var", MADOGUCHI_DEMO=False, **LINE_PAIR)
    [warning, _slack] = plain.check()
    assert warning.startswith("MADOGUCHI_PUBLIC_URL is http://127.0.0.1:8000: LINE and Slack deliver only")
    refused = _cli(["serve", "--port", "1"], tmp_path, MADOGUCHI_PUBLIC_URL="madoguchi.example.jp")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "cannot start: MADOGUCHI_PUBLIC_URL: Value error, an absolute http(s) address" in refused.stderr
