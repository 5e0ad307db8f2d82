"""LINE fixtures: the API stand-in, servers (in this process or as `madoguchi serve`) and a LINE user."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from handlers.app import create_app
from handlers.services import Services, build_services
from handlers.settings import Settings
from storage.clock import Clock
from storage.database import Database
from tests.conftest import TEST_KEY, DatabaseFactory
from tests.line.standin import TOKEN, Delivery, LineStandIn

SECRET = "test-channel-secret-0123456789ab"
ADMIN = "test-admin-token"
FAST = {
    "MADOGUCHI_LINE_RETRY_BASE": "0.1",
    "MADOGUCHI_LINE_RETRY_CAP": "0.5",
    "MADOGUCHI_LINE_LEASE": "2",
    "MADOGUCHI_LINE_READ_TIMEOUT": "1",
    "MADOGUCHI_LINE_CONNECT_TIMEOUT": "1",
    "MADOGUCHI_LINE_POLL": "0.1",
    "MADOGUCHI_LINE_REORDER_WINDOW": "0.1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def server_env(database_url: str, api_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of a server under test: LINE credentials, the PII key, the stand-in, fast retries."""
    return {
        "DATABASE_URL": database_url,
        "MADOGUCHI_DEMO": "0",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": api_url,
        "MADOGUCHI_PII_KEY": TEST_KEY,
        "MADOGUCHI_ADMIN_TOKEN": ADMIN,
        "MADOGUCHI_VAR_DIR": str(var_dir),
        **FAST,
    }


@pytest.fixture(autouse=True)
def _close_users() -> Iterator[None]:
    yield
    while LineUser.opened:
        LineUser.opened.pop().client.close()


@pytest.fixture
def standin() -> Iterator[LineStandIn]:
    server = LineStandIn().start()
    yield server
    server.close()


@pytest.fixture
def new_database(fresh_database_url: DatabaseFactory) -> Callable[[], str]:
    """Makes a new, migrated database of the kind under test (for servers and crashes)."""

    def make() -> str:
        return fresh_database_url(migrated=True)

    return make


class RunningClock:
    """A clock that runs `speed` times as fast as the wall clock, from now: a minute's outage in seconds."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.started = datetime.now(UTC)
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.started + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def seconds(self) -> float:
        """Clock seconds since it started."""
        return (time.monotonic() - self._t0) * self.speed


class InProcessServer:
    """The real app under uvicorn in a thread of this process, on a free port."""

    def __init__(self, env: dict[str, str], clock: Clock | None = None, *, http: str = "auto") -> None:
        settings = Settings(_env_file=None, **env)  # type: ignore[call-arg, arg-type]
        self.services: Services = build_services(settings, clock=clock)
        self.app = create_app(self.services)
        # Bound here and handed to uvicorn: no other process can take the port between its choice and use.
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning", http=http)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True)

    @property
    def db(self) -> Database:
        return self.services.db

    def start(self) -> InProcessServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.socket.close()
        if self.services.line_api is not None:
            self.services.line_api.close()
        self.services.db.dispose()


@pytest.fixture
def start_server(
    new_database: Callable[[], str], standin: LineStandIn, tmp_path: Path
) -> Iterator[Callable[..., InProcessServer]]:
    """Starts in-process servers (on a new database unless one is given); all are stopped afterwards."""
    servers: list[InProcessServer] = []

    def start(
        database_url: str | None = None, api_url: str | None = None, clock: Clock | None = None, **tuning: str
    ) -> InProcessServer:
        # The timings are settings like any other: given with the server's environment, they override FAST.
        env = {
            **server_env(database_url or new_database(), api_url or standin.url, tmp_path / "var"),
            **tuning,
        }
        server = InProcessServer(env, clock).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


class ServeProcess:
    """`madoguchi serve` as a child process, killed at teardown whatever happens."""

    def __init__(
        self, env: dict[str, str], workdir: Path, command: str = "serve", extra: tuple[str, ...] = ()
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("MADOGUCHI_", "LINE_"))},
            **env,
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
        self.workdir = workdir
        self.command = command
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{command}-{self.port}.log"

    def start(self) -> ServeProcess:
        for _ in range(3):
            self._spawn()
            if self.command != "serve" or self.wait_healthy():
                return self
            # Another process took the free port between its choice and our bind: choose again.
            self.port = free_port()
            self.url = f"http://127.0.0.1:{self.port}"
        raise AssertionError("server found no free port:\n" + self.log.read_text()[-3000:])

    def _spawn(self) -> None:
        args = [sys.executable, "-m", "handlers.cli", self.command]
        if self.command == "serve":
            args += ["--port", str(self.port), "--no-scheduler", *self.extra]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                args, env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT
            )

    def wait_healthy(self, timeout: float = 60.0) -> bool:
        """True once the server answers; False when it could not bind its port (it exits: uvicorn's 3 or 1)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                log = self.log.read_text()
                assert "address already in use" in log.lower(), log[-3000:]
                return False
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self.proc.poll() is None  # not another process's server on the port
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError("server did not become healthy:\n" + self.log.read_text()[-3000:])

    def sigkill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[ServeProcess]]:
    """Child processes to kill at teardown."""
    started: list[ServeProcess] = []
    yield started
    for proc in started:
        proc.stop()


class LineUser:
    """A LINE user talking to a server: builds signed webhook events and reads what reached the stand-in."""

    opened: list[LineUser] = []

    def __init__(self, url: str, standin: LineStandIn, user_id: str | None = None) -> None:
        self.url = url
        self.standin = standin
        self.user_id = user_id or "U" + uuid.uuid4().hex
        self.client = httpx.Client(timeout=10)
        self.clock_ms = int(time.time() * 1000)
        LineUser.opened.append(self)

    def event(self, kind: str, *, reply: bool = True, ts: int | None = None, **fields: Any) -> dict[str, Any]:
        self.clock_ms = max(self.clock_ms + 1, int(time.time() * 1000)) if ts is None else self.clock_ms
        event: dict[str, Any] = {
            "type": kind,
            "mode": "active",
            "timestamp": ts if ts is not None else self.clock_ms,
            "source": {"type": "user", "userId": self.user_id},
            "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
            "deliveryContext": {"isRedelivery": False},
            **fields,
        }
        if reply:
            event["replyToken"] = self.standin.issue_reply_token(self.user_id)
        return event

    def text(self, text: str, **kw: Any) -> dict[str, Any]:
        return self.event(
            "message",
            message={"type": "text", "id": uuid.uuid4().hex[:18], "quoteToken": "q", "text": text},
            **kw,
        )

    def postback(self, data: str, params: dict[str, str] | None = None, **kw: Any) -> dict[str, Any]:
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        return self.event("postback", postback=postback, **kw)

    def post(
        self,
        *events: dict[str, Any],
        body: bytes | None = None,
        signature: str | bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        raw = (
            body
            if body is not None
            else json.dumps({"destination": "Ubot", "events": list(events)}, ensure_ascii=False).encode()
        )
        sent: dict[str, Any] = {
            "Content-Type": "application/json",
            "X-Line-Signature": signature or sign(raw),
            **(headers or {}),
        }
        return self.client.post(f"{self.url}/line/webhook", content=raw, headers=sent)

    def send(self, event: dict[str, Any], timeout: float = 10.0) -> Delivery:
        """Posts one event and waits for the one delivery it causes."""
        before = len(self.standin.deliveries_to(self.user_id))
        assert self.post(event).status_code == 200
        return self.standin.wait_for_deliveries(self.user_id, before + 1, timeout)[before]

    def say(self, text: str) -> Delivery:
        return self.send(self.text(text))

    def tap(self, last: Delivery, label: str) -> Delivery:
        actions = [
            item["action"] for m in last.messages for item in (m.get("quickReply") or {}).get("items", [])
        ]
        found = [a for a in actions if a["label"] == label]
        assert found, f"no button {label!r} in {[a['label'] for a in actions]}"
        return self.send(self.postback(found[0]["data"]))
