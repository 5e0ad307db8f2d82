"""The LINE timings are part of the one settings object, under their MADOGUCHI_LINE_* names and defaults."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from handlers.settings import DeliveryTuning, Settings


@pytest.fixture(autouse=True)
def _no_line_timings_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("MADOGUCHI_LINE_")]:
        monkeypatch.delenv(name)


def test_the_defaults_suit_production() -> None:
    assert Settings(_env_file=None).line_tuning == DeliveryTuning(  # type: ignore[call-arg]
        connect_timeout=3.0,
        read_timeout=10.0,
        lease=30.0,
        retry_base=2.0,
        retry_cap=300.0,
        max_attempts=8,
        resume_interval=60.0,
        resume_within=23 * 3600.0,
        reorder_window=0.2,
        poll=0.5,
        senders=8,
        event_attempts=5,
        loading_after=1.0,
    )


def test_each_timing_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_LINE_LEASE", "12.5")
    monkeypatch.setenv("MADOGUCHI_LINE_SENDERS", "3")
    monkeypatch.setenv("MADOGUCHI_LINE_REORDER_WINDOW", "0")
    tuning = Settings(_env_file=None).line_tuning  # type: ignore[call-arg]
    assert (tuning.lease, tuning.senders, tuning.reorder_window, tuning.poll) == (12.5, 3, 0.0, 0.5)


def test_a_dotenv_file_sets_them_too(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("MADOGUCHI_LINE_MAX_ATTEMPTS=4\nMADOGUCHI_LINE_READ_TIMEOUT=2\n", encoding="utf-8")
    tuning = Settings(_env_file=env).line_tuning  # type: ignore[call-arg]
    assert (tuning.max_attempts, tuning.read_timeout) == (4, 2.0)


@pytest.mark.parametrize("name", ["MADOGUCHI_LINE_SENDERS", "MADOGUCHI_LINE_LEASE", "MADOGUCHI_LINE_POLL"])
def test_a_timing_that_cannot_work_stops_the_start(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "0")
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None)  # type: ignore[call-arg]
