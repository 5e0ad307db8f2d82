# ruff: noqa: T201
"""The LINE webhook under load: acked events/s, ack latency and time to the last reply, beside a bare endpoint.

    .venv/bin/python -m benchmarks.webhook [--users 2000] [--concurrency 32] [--database-url URL] [--workers N]
                                           [--stack uvloop|asyncio]

Starts the LINE API stand-in in this process, then, one after the other, on this machine:
  1. a bare FastAPI endpoint (its own process, same uvicorn settings) that only verifies the signature;
  2. `madoguchi serve` (its own process) on a fresh database, LINE pointed at the stand-in.
Both run on the same server stack, chosen as `serve` chooses it: uvloop and httptools when installed
(--stack uvloop, the default), or asyncio and h11 (--stack asyncio: both processes are started with the
two packages made unimportable, as on an install without them). The absolute rates depend on the stack;
the ratio of the two is not expected to rise with a faster one, which speeds the bare endpoint (all HTTP)
at least as much as Madoguchi (whose database work it leaves as it is).
Thousands of distinct users are first brought mid-conversation (each has asked for a consultation and been
shown the privacy notice); then each sends one signed text message ("同意する"), which the server stores,
acknowledges, processes (engine, interaction log, outbox) and answers through the stand-in.
The load comes from a raw keep-alive HTTP/1.1 client in this process, not the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from handlers.cli import server_stack
from storage.crypto import generate_key
from storage.database import upgrade_schema
from tests.line.standin import TOKEN, LineStandIn

SECRET = "benchmark-channel-secret-0123456"
LINE_DEADLINE = 2.0


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_body(user_id: str, text: str, reply_token: str) -> tuple[bytes, bytes]:
    """One LINE text-message webhook body (escaped like LINE's) and its X-Line-Signature."""
    event = {
        "type": "message",
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
        "deliveryContext": {"isRedelivery": False},
        "replyToken": reply_token,
        "message": {"type": "text", "id": uuid.uuid4().hex[:18], "quoteToken": "q", "text": text},
    }
    body = json.dumps({"destination": "Ubot", "events": [event]}).encode()
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    return body, signature


async def _connection(
    port: int,
    requests: list[tuple[bytes, bytes]],
    next_index: list[int],
    latencies: list[float],
    statuses: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while next_index[0] < len(requests):
            body, signature = requests[next_index[0]]
            next_index[0] += 1
            head = (
                b"POST /line/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"X-Line-Signature: "
                + signature
                + b"\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\n\r\n"
            )
            started = time.perf_counter()
            writer.write(head + body)
            await writer.drain()
            status = int((await reader.readline()).split()[1])
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses.append(status)
    finally:
        writer.close()


def drive(
    port: int, requests: list[tuple[bytes, bytes]], concurrency: int
) -> tuple[float, list[float], list[int]]:
    """Sends every request over `concurrency` keep-alive connections; returns wall time, latencies, statuses."""
    latencies: list[float] = []
    statuses: list[int] = []
    next_index = [0]

    async def run() -> None:
        await asyncio.gather(
            *(_connection(port, requests, next_index, latencies, statuses) for _ in range(concurrency))
        )

    started = time.perf_counter()
    asyncio.run(run())
    return time.perf_counter() - started, latencies, statuses


def fresh_postgres(base_url: str) -> str:
    """A new, empty database on the server of `base_url` (dropped afterwards by drop_postgres)."""
    name = f"madoguchi_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def drop_postgres(base_url: str, url: str) -> None:
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def analyze(url: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()


def start(args: list[str], env: dict[str, str], log: Path, port: int) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server did not start; see {log}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def summary(name: str, wall: float, latencies: list[float], statuses: list[int]) -> dict[str, float]:
    ordered = sorted(latencies)
    figures = {
        "events_per_s": len(latencies) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "max_ms": ordered[-1] * 1000,
        "non_200": sum(s != 200 for s in statuses),
    }
    print(
        f"{name:>22}: {figures['events_per_s']:8.0f} acked events/s   p50 {figures['p50_ms']:6.1f} ms   "
        f"p99 {figures['p99_ms']:6.1f} ms   max {figures['max_ms']:7.1f} ms   non-200: {figures['non_200']}"
    )
    return figures


def without_fast_stack(work: Path) -> str:
    """A directory that, first on PYTHONPATH, makes uvloop and httptools fail to import (as when missing)."""
    missing = work / "no-uvloop"
    for module in ("uvloop", "httptools"):
        (missing / module).mkdir(parents=True, exist_ok=True)
        (missing / module / "__init__.py").write_text(
            f"raise ImportError('{module}: left out (--stack asyncio)')\n"
        )
    return str(missing)


def stack_reported(log: Path) -> str:
    """What `madoguchi serve` logged it runs on."""
    found = [
        line.split("HTTP server: ", 1)[1] for line in log.read_text().splitlines() if "HTTP server: " in line
    ]
    return found[0] if found else "(not reported)"


def bare_app() -> None:
    """The comparison endpoint: verify the signature on the raw body, answer 200, nothing else."""
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/line/webhook")
    async def webhook(request: Request) -> JSONResponse:
        body = await request.body()
        expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
        if not hmac.compare_digest(expected, request.headers.get("x-line-signature", "").encode()):
            return JSONResponse({"detail": "invalid signature"}, status_code=400)
        return JSONResponse({})

    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="info", **server_stack())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file; a PostgreSQL URL gets a fresh database beside it",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="PostgreSQL: `serve --no-drain` stores the webhooks and this many `madoguchi worker` processes answer",
    )
    parser.add_argument(
        "--stack",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="uvloop + httptools (what serve uses when installed) or asyncio + h11, for both servers",
    )
    parser.add_argument("--bare-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        bare_app()
        return 0

    work = Path(tempfile.mkdtemp(prefix="madoguchi-bench-"))
    standin = LineStandIn().start()
    root = str(Path(__file__).resolve().parents[1])
    first = [without_fast_stack(work)] if args.stack == "asyncio" else []
    base_env = {
        **os.environ,
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (*first, root, os.environ.get("PYTHONPATH", "")) if p),
    }
    users = [f"U{uuid.uuid4().hex}" for _ in range(args.users)]

    port = free_port()
    bare = start(
        [sys.executable, "-m", "benchmarks.webhook", "--bare-server"],
        {**base_env, "PORT": str(port)},
        work / "bare.log",
        port,
    )
    warm = [signed_body(u, "同意する", "x") for u in users[:200]]
    drive(port, warm, args.concurrency)
    bare_figures = summary(
        "bare signature check",
        *drive(port, [signed_body(u, "同意する", "x") for u in users], args.concurrency),
    )
    stop(bare)

    url = fresh_postgres(args.database_url) if args.database_url else f"sqlite:///{work / 'bench.db'}"
    upgrade_schema(url)
    port = free_port()
    env = {
        **base_env,
        "DATABASE_URL": url,
        "MADOGUCHI_DEMO": "0",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": standin.url,
        "MADOGUCHI_PII_KEY": generate_key(),
        "MADOGUCHI_VAR_DIR": str(work / "var"),
        "PORT": str(port),
    }
    serve = [sys.executable, "-m", "handlers.cli", "serve", "--no-scheduler"]
    server = start(serve + (["--no-drain"] if args.workers else []), env, work / "serve.log", port)
    workers = []
    for n in range(args.workers):
        with (work / f"worker{n}.log").open("wb") as out:
            command = [sys.executable, "-m", "handlers.cli", "worker"]
            workers.append(subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=work))
    try:
        setup = [signed_body(u, "相談したい", standin.issue_reply_token(u, ttl=600)) for u in users]
        drive(port, setup, args.concurrency)
        standin.wait_for(lambda: len(standin.deliveries) >= len(users), 600, "the set-up replies")
        if url.startswith("postgresql"):
            analyze(url)  # what autovacuum does on a database in use; a fresh one has no statistics yet
        measured = [signed_body(u, "同意する", standin.issue_reply_token(u, ttl=600)) for u in users]
        started = time.perf_counter()
        wall, latencies, statuses = drive(port, measured, args.concurrency)
        full_figures = summary("madoguchi /line/webhook", wall, latencies, statuses)
        standin.wait_for(lambda: len(standin.deliveries) >= 2 * len(users), 600, "every reply")
        all_replied = time.perf_counter() - started
    finally:
        stop(server)
        for worker in workers:
            stop(worker)
        standin.close()
        if args.database_url:
            drop_postgres(args.database_url, url)

    per_user: dict[str, int] = {}
    for delivery in standin.deliveries:
        per_user[delivery.user_id] = per_user.get(delivery.user_id, 0) + 1
    lost = sum(per_user.get(u, 0) < 2 for u in users)
    doubled = sum(per_user.get(u, 0) > 2 for u in users)
    late = sum(latency > LINE_DEADLINE for latency in latencies)
    pushes = sum(d.kind == "push" for d in standin.deliveries)
    print(
        f"{'every reply delivered':>22}: {all_replied:8.1f} s after the first measured request "
        f"({len(users) / all_replied:.0f} replies/s end to end)"
    )
    print(
        f"{'users':>22}: {len(users)}, concurrency {args.concurrency}, database {url.split(':', 1)[0]}, "
        f"{f'{args.workers} worker process(es) answering' if args.workers else 'the serve process answering'}"
    )
    print(
        f"{'loss':>22}: {lost} lost, {doubled} doubled, {late} acks over {LINE_DEADLINE:.0f} s, {pushes} pushes"
    )
    print(
        f"{'server stack':>22}: madoguchi on {stack_reported(work / 'serve.log')}, "
        f"the bare endpoint on {stack_reported(work / 'bare.log')} (--stack {args.stack})"
    )
    print(
        f"{'ratio':>22}: {full_figures['events_per_s'] / bare_figures['events_per_s']:.2f} of the bare rate "
        f"(goal 0.50); p99 ack {full_figures['p99_ms']:.1f} ms (goal < 50 ms on SQLite)"
    )
    print(
        f"{'':>22}  both servers run on the same stack, so the ratio compares like with like; it is not\n"
        f"{'':>22}  expected to rise with a faster stack, which speeds the bare endpoint at least as much\n"
        f"{'':>22}  (HTTP is all it does): compare stacks by the absolute rates above"
    )
    return 1 if lost or doubled or late or full_figures["non_200"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
