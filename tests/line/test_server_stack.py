"""`madoguchi serve` runs uvicorn on uvloop and httptools when they are installed, on asyncio and h11 if not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.line.conftest import LineUser, ServeProcess, server_env
from tests.line.standin import LineStandIn

UVLOOP, HTTPTOOLS = "/uvloop/loop.", "/httptools/parser/parser."  # their compiled modules, once loaded


def loaded(proc: ServeProcess) -> str:
    """The files mapped into the server process (its shared libraries among them)."""
    assert proc.proc is not None
    return Path(f"/proc/{proc.proc.pid}/maps").read_text()


def test_serve_runs_on_uvloop_and_httptools(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    proc = ServeProcess(server_env(new_database(), standin.url, tmp_path / "var"), tmp_path)
    processes.append(proc)
    proc.start()
    user = LineUser(proc.url, standin)
    assert "個人情報" in user.say("相談したい").texts[0]
    assert UVLOOP in loaded(proc) and HTTPTOOLS in loaded(proc)
    assert "HTTP server: uvloop event loop, httptools parser" in proc.log.read_text()


def test_serve_falls_back_to_asyncio_and_h11_without_them(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path, processes: list[ServeProcess]
) -> None:
    missing = tmp_path / "missing"
    for module in ("uvloop", "httptools"):  # found before the installed ones, and failing to import
        (missing / module).mkdir(parents=True)
        (missing / module / "__init__.py").write_text(f"raise ImportError('{module} is not installed')\n")
    env = server_env(new_database(), standin.url, tmp_path / "var") | {"PYTHONPATH": str(missing)}
    proc = ServeProcess(env, tmp_path)
    processes.append(proc)
    proc.start()
    user = LineUser(proc.url, standin)
    assert "個人情報" in user.say("相談したい").texts[0]
    assert UVLOOP not in loaded(proc) and HTTPTOOLS not in loaded(proc)
    assert "HTTP server: asyncio event loop, h11 parser" in proc.log.read_text()
