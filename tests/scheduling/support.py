"""Helpers of the scheduling tests: times, configs, the booking schema and iCalendar documents."""

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
from typing import Any

import httpx
from sqlalchemy import Column, Engine, Integer, MetaData, Table, insert, text
from sqlalchemy.dialects.postgresql import ExcludeConstraint

from config.scheduling import SchedulingConfig
from scheduling.availability import JST
from storage.base import NAMING
from storage.bookings import Booking

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


def booking_schema() -> MetaData:
    """The booking table beside one-column stand-ins for the consultation and contact tables it refers to."""
    metadata = MetaData(naming_convention=NAMING)
    Table("consultation", metadata, Column("id", Integer, primary_key=True))
    Table("contact", metadata, Column("id", Integer, primary_key=True))
    table = Booking.__table__.to_metadata(metadata)
    for constraint in table.constraints:
        if isinstance(constraint, ExcludeConstraint):
            # to_metadata() drops the dialect condition; the constraint exists on PostgreSQL only.
            constraint.ddl_if(dialect="postgresql")
    return metadata


def prepare_booking_tables(engine: Engine, consultations: int = 60) -> None:
    """Creates the tables and consultations 1..n."""
    metadata = booking_schema()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
        metadata.create_all(conn)
        conn.execute(
            insert(metadata.tables["consultation"]), [{"id": i} for i in range(1, consultations + 1)]
        )


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
