"""POST /line/webhook and bodies too large to read: refused at the cap, chunked or not, with memory bounded."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from handlers.line.webhook import MAX_BODY
from tests.line.conftest import InProcessServer, LineUser, server_env, sign
from tests.line.standin import LineStandIn

CHUNK = 64 * 1024
HUGE = 320 * 1024 * 1024  # several hundred MB: reading it whole would show in the process's memory


def memory_peak_reset() -> int:
    """Resets this process's peak resident size (VmHWM) to the current one and returns it, in bytes."""
    Path("/proc/self/clear_refs").write_text("5")
    return memory_peak()


def memory_peak() -> int:
    """This process's peak resident size since the last reset, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


class CountingBody:
    """A request body of `size` bytes and more, counting how many the client was asked for."""

    HEAD, TAIL = b'{"destination": "Ubot", "events": []', b"}"

    def __init__(self, size: int) -> None:
        self.size = size
        self.pulled = 0

    @property
    def length(self) -> int:
        return len(self.HEAD) + self.size + len(self.TAIL)

    def __iter__(self) -> Iterator[bytes]:
        chunk = b" " * CHUNK  # JSON whitespace: were it read whole, it would even parse
        yield self.HEAD
        while self.pulled < self.size:
            self.pulled += len(chunk)
            yield chunk
        yield self.TAIL


@pytest.fixture(params=["h11", "httptools"])
def server(
    request: pytest.FixtureRequest,
    new_database: Callable[[], str],
    standin: LineStandIn,
    tmp_path: Path,
) -> Iterator[InProcessServer]:
    """The real app under uvicorn in this process (so its memory is this process's), on each HTTP parser."""
    server = InProcessServer(server_env(new_database(), standin.url, tmp_path / "var"), http=request.param)
    server.start()
    yield server
    server.stop()


def test_a_chunked_body_over_the_cap_is_refused_without_being_read(
    server: InProcessServer, standin: LineStandIn
) -> None:
    body = CountingBody(HUGE)
    before = memory_peak_reset()
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            f"{server.url}/line/webhook",
            content=iter(body),  # no Content-Length: sent chunked
            headers={"Content-Type": "application/json", "X-Line-Signature": sign(b"whatever")},
        )
    grown = memory_peak() - before
    assert body.pulled < 32 * 1024 * 1024, body.pulled  # the cap, plus what the sockets buffer
    assert grown < 64 * 1024 * 1024, grown
    assert answer.status_code == 413
    assert answer.json() == {"detail": f"body too large: at most {MAX_BODY} bytes"}
    assert answer.headers["connection"] == "close"
    # The server is as it was: a signed message is still answered.
    user = LineUser(server.url, standin)
    assert "個人情報" in user.say("相談したい").texts[0]


def test_a_declared_length_over_the_cap_is_refused_before_the_body(server: InProcessServer) -> None:
    body = CountingBody(HUGE)
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            f"{server.url}/line/webhook",
            content=iter(body),
            headers={
                "Content-Type": "application/json",
                "Content-Length": str(body.length),
                "X-Line-Signature": sign(b"whatever"),
            },
        )
    assert body.pulled < 32 * 1024 * 1024, body.pulled
    assert answer.status_code == 413


def test_an_unsigned_body_is_refused_without_being_read(server: InProcessServer) -> None:
    body = CountingBody(HUGE)
    with httpx.Client(timeout=30) as client:
        answer = client.post(
            f"{server.url}/line/webhook", content=iter(body), headers={"Content-Type": "application/json"}
        )
    assert body.pulled < 32 * 1024 * 1024, body.pulled
    assert answer.status_code == 400


def test_a_signed_chunked_body_at_the_cap_is_read_and_stored(
    server: InProcessServer, standin: LineStandIn
) -> None:
    user = LineUser(server.url, standin)
    raw = json.dumps({"destination": "Ubot", "events": [user.text("相談したい")]}).encode()
    raw = raw[:-1] + b" " * (MAX_BODY - len(raw)) + b"}"  # exactly MAX_BODY bytes
    assert len(raw) == MAX_BODY

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(raw), CHUNK):
            yield raw[start : start + CHUNK]

    answer = user.client.post(
        f"{server.url}/line/webhook",
        content=chunks(),
        headers={"Content-Type": "application/json", "X-Line-Signature": sign(raw)},
    )
    assert answer.status_code == 200
    assert "個人情報" in standin.wait_for_deliveries(user.user_id, 1)[0].texts[0]
