"""Helpers of the scheduling tests: times, configs, the migrated booking tables and iCalendar documents."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import httpx
from sqlalchemy import Engine, Table, insert, text

from config.scheduling import SchedulingConfig
from scheduling.availability import JST
from storage.database import upgrade_schema
from storage.models import Company, Consultation, Contact

RADICALE_USER, RADICALE_PASSWORD = "yamada-dav", "s3cret-pass"
RADICALE_SECOND_USER = "second"
# The suite-wide PostgreSQL URL (make test's second run) serves too.
POSTGRES_URL = os.environ.get("MADOGUCHI_TEST_POSTGRES_URL") or (
    os.environ.get("MADOGUCHI_TEST_DATABASE_URL", "")
    if "postgres" in os.environ.get("MADOGUCHI_TEST_DATABASE_URL", "")
    else ""
)


def jst(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Japan-time moment as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=JST).astimezone(UTC)


def make_config(coordinators: list[dict[str, Any]] | None = None, **rules: Any) -> SchedulingConfig:
    """A scheduling config with one all-round weekday coordinator unless told otherwise."""
    closures = rules.pop("closures", {})
    return SchedulingConfig.model_validate(
        {
            "coordinators": coordinators if coordinators is not None else [{"id": "a", "name": "A"}],
            "closures": closures,
            "rules": rules,
        }
    )


def prepare_booking_tables(engine: Engine, consultations: int = 60, *, migrate: bool = True) -> None:
    """Migrates the database as `madoguchi db upgrade` does (unless it is migrated already), and adds
    consultations 1..n (of one contact and company) for the bookings to belong to."""
    if migrate:
        upgrade_schema(engine.url.render_as_string(hide_password=False))
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(cast(Table, Contact.__table__)),
            {"id": 1, "channel": "web", "created_at": now, "updated_at": now},
        )
        conn.execute(
            insert(cast(Table, Company.__table__)), {"id": 1, "name": "テスト商店", "created_at": now}
        )
        conn.execute(
            insert(cast(Table, Consultation.__table__)),
            [
                {
                    "id": i,
                    "reference": f"202611-{i:05d}",
                    "status": "submitted",
                    "channel": "web",
                    "contact_id": 1,
                    "company_id": 1,
                    "industry": "I",
                    "municipality_code": "46201",
                    "region": "kagoshima",
                    "employee_band": "1-5",
                    "category": "other",
                    "description": "",
                    "dx_stage": "none",
                    "method": "online",
                    "notice_version": "test",
                    "submitted_at": now,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, consultations + 1)
            ],
        )
        if engine.dialect.name == "postgresql":  # the ids were given: the sequences follow them
            for table in ("contact", "company", "consultation"):
                conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))


def ics_document(*events: str) -> bytes:
    """A VCALENDAR around the given VEVENT blocks, CRLF-terminated as the RFC asks."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//feed//EN"]
    for event in events:
        lines += ["BEGIN:VEVENT", *event.strip().splitlines(), "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(line.strip() for line in lines) + "\r\n").encode("utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_answers(
    url: str, *, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class RadicaleServer:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.process: subprocess.Popen[bytes] | None = None
        users = base / "users"
        users.write_text(
            f"{RADICALE_USER}:{RADICALE_PASSWORD}\n{RADICALE_SECOND_USER}:{RADICALE_PASSWORD}\n",
            encoding="utf-8",
        )
        self.config = base / "config"
        self.config.write_text(
            "\n".join(
                [
                    "[server]",
                    f"hosts = 127.0.0.1:{self.port}",
                    "[auth]",
                    "type = htpasswd",
                    f"htpasswd_filename = {users}",
                    "htpasswd_encryption = plain",
                    "delay = 0",
                    "[storage]",
                    f"filesystem_folder = {base / 'collections'}",
                    "[rights]",
                    "type = owner_only",
                    "[logging]",
                    "level = error",
                    "",
                ]
            ),
            encoding="utf-8",
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_answers(self.url, process=self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class FeedServer:
    """A tiny HTTP server serving one iCalendar body that tests change at will."""

    def __init__(self) -> None:
        self.body = b""
        self.status = 200
        self.requests = 0
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                feed.requests += 1
                self.send_response(feed.status)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(feed.body)))
                self.end_headers()
                self.wfile.write(feed.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/coordinator.ics"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
