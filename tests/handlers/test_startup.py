"""Start-up: demo-mode rules, refusals that name what is missing, the demo PII key, a broken config."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from handlers.services import build_services
from handlers.settings import Settings, StartupError
from tests.conftest import TEST_KEY, make_settings


def test_demo_mode_is_on_when_no_line_credentials_are_set(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, **{"MADOGUCHI_VAR_DIR": str(tmp_path)})  # type: ignore[call-arg]
    assert settings.demo
    with_line = Settings(_env_file=None, **{"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"})  # type: ignore[call-arg]
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
