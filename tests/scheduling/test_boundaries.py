"""Dependencies point one way: scheduling reaches no channel or web code, storage reaches nothing of ours."""

from __future__ import annotations

import subprocess
import sys

import pytest

FORBIDDEN = {
    "scheduling": ("bot", "handlers", "fastapi", "starlette", "linebot", "slack_sdk", "slack_bolt"),
    "storage.bookings": ("bot", "handlers", "scheduling", "config", "reporting"),
}


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_imports_stay_below_their_layer(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN[module]!r})))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
