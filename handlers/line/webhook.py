"""POST /line/webhook: verify the signature on the raw body, store the events once, then answer 200.

Nothing is processed before the answer: the events are committed (several requests' events share one
commit when they arrive together) and the drain threads take them from the inbox.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from handlers.line.events import timestamp_of
from handlers.line.sync import WriteGate
from storage.channels import Channel
from storage.clock import Clock
from storage.database import Database
from storage.inbox import NewEvent, store_events

log = logging.getLogger(__name__)
CHANNEL = Channel.LINE
MAX_BODY = 1_000_000
STORE_DEADLINE = 1.5  # seconds: LINE counts no answer within 2 s as a failure
BATCH = 512


def sign(secret: str, body: bytes) -> str:
    """The X-Line-Signature of a body: Base64(HMAC-SHA256(channel secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def signature_ok(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether the signature matches the raw body, compared in constant time."""
    if not signature:
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), signature.encode("utf-8", "replace"))


_UNSTORABLE = re.compile(rb"\\u(?:[dD][89a-fA-F]|0000)")  # escapes of a lone surrogate or NUL, maybe
MAX_DIGITS = 4300  # Python's own limit on reading a number: a longer one is no value LINE sends


def _storable(value: Any) -> Any:
    """The value with NUL removed and lone surrogates replaced (neither can be stored, nor is ever meant)."""
    if isinstance(value, str):
        return value.replace("\x00", "").encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, dict):
        return {_storable(k): _storable(v) for k, v in value.items()}
    return value


def _number(digits: str) -> int | None:
    return int(digits) if len(digits) <= MAX_DIGITS else None


def _not_json(constant: str) -> None:
    return None  # NaN and Infinity, which Python reads but JSON does not have


def _source_id(raw: dict[str, Any]) -> str | None:
    """Whose event it is, for keeping one sender's events in order: the user, group or room id."""
    source = raw.get("source")
    if isinstance(source, dict):
        for key in ("userId", "groupId", "roomId"):
            if isinstance(source.get(key), str) and source[key]:
                return str(source[key])
    return None


def read_events(body: bytes) -> list[NewEvent]:
    """The events of a webhook body; ValueError when it is not a LINE webhook body.

    Every field the desk reads is checked for its type (here and in events.read_event), so an event with a
    value of the wrong type is stored and handled like one without that value, never refused by a
    database that is stricter than another, and never taking the other events of its request with it.
    """
    payload = json.loads(body, parse_int=_number, parse_constant=_not_json)
    if _UNSTORABLE.search(body):
        payload = _storable(payload)
    if not isinstance(payload, dict) or not isinstance(payload.get("events", []), list):
        raise ValueError("not a webhook body")
    events: list[NewEvent] = []
    for raw in payload.get("events", []):
        if not isinstance(raw, dict):
            raise ValueError("an event is not an object")
        event_id = raw.get("webhookEventId")
        if not isinstance(event_id, str) or not 0 < len(event_id) <= 64:
            # Every LINE event has an id; without one, its content is its identity, so a copy is still a copy.
            event_id = "sha256:" + hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:57]
        events.append(NewEvent(event_id, _source_id(raw), timestamp_of(raw), raw))
    return events


class InboxWriter:
    """Commits webhook events from one thread, grouping the requests that arrive while it writes."""

    def __init__(self, *, db: Database, clock: Clock, gate: WriteGate, on_stored: Callable[[], None]) -> None:
        self.db = db
        self.clock = clock
        self.gate = gate
        self.on_stored = on_stored
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.last_commit = 0.0  # time.monotonic() of the last commit: webhooks are arriving

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="line-inbox-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stops after committing what was already handed over."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(10)
            self._thread = None

    async def store(self, events: list[NewEvent]) -> bool:
        """Stores the events durably; True once committed, False when the database failed."""
        if self._thread is None:
            raise RuntimeError("the inbox writer is not running")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[bool] = loop.create_future()
        self._queue.put((events, loop, done))
        return await done

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)
                    break
                batch.append(more)
            try:
                self._store_batch(batch)
            except Exception as exc:  # noqa: BLE001 - the writer must outlive anything one batch does
                log.error("LINE inbox writer: %s", type(exc).__name__)
                for _, loop, done in batch:
                    loop.call_soon_threadsafe(_resolve, done, False)

    def _store_batch(self, batch: list[Any]) -> None:
        requests = [events for events, _, _ in batch]
        failed = self._commit([e for events in requests for e in events])
        results = [failed is None] * len(batch)
        if failed is not None and len(batch) > 1:
            # One request's events spoil the statement for all: store each request on its own.
            results = [self._store_request(events) for events in requests]
        elif failed is not None and not _connection_trouble(failed):
            results = [self._store_request(requests[0], failed)]
        self.last_commit = time.monotonic()
        for (_, loop, done), ok in zip(batch, results, strict=True):
            loop.call_soon_threadsafe(_resolve, done, ok)
        if any(results):
            self.on_stored()

    def _store_request(self, events: list[NewEvent], failed: Exception | None = None) -> bool:
        """Stores one request's events; if one of them cannot be stored, still the others (then False)."""
        if failed is None:
            failed = self._commit(events)
        if failed is None:
            return True
        if len(events) == 1 or _connection_trouble(failed):
            return False
        # Answered 503 all the same: LINE sends the request again, and the stored events are skipped as copies.
        return all([self._commit([event]) is None for event in events])

    def _commit(self, events: list[NewEvent]) -> Exception | None:
        """Stores the events in one transaction; None once committed, else what failed."""
        try:
            with self.gate.hold(urgent=True), self.db.session() as session:
                # One statement for every request in the batch: a copy within it is skipped like any other.
                store_events(session=session, channel=CHANNEL, events=events, received_at=self.clock.now())
            return None
        except Exception as exc:  # noqa: BLE001 - answered 503, so LINE sends the events again
            log.error("could not store LINE events: %s", type(exc).__name__)
            return exc


def _connection_trouble(exc: Exception) -> bool:
    """Whether storing failed for want of the database (retrying event by event would not help)."""
    return isinstance(exc, OperationalError | InterfaceError | PoolTimeout)


def _resolve(done: asyncio.Future[bool], ok: bool) -> None:
    if not done.done():
        done.set_result(ok)


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The raw body, or None as soon as it is known to be longer than `limit` (declared or chunked)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None  # the rest is never read: the connection is closed with the answer
    return bytes(body)


def _refuse(detail: str, status: int) -> JSONResponse:
    """An answer to a request whose body may be left unread, so the connection is closed after it."""
    return JSONResponse({"detail": detail}, status_code=status, headers={"Connection": "close"})


def build_router(*, channel_secret: str, writer: InboxWriter) -> APIRouter:
    """The webhook route for one channel secret, storing through one writer."""
    router = APIRouter()

    @router.post("/line/webhook")
    async def line_webhook(request: Request) -> JSONResponse:
        """Verifies, stores and acknowledges a LINE webhook."""
        signature = request.headers.get("x-line-signature")
        if not signature:
            return _refuse("invalid signature", 400)  # no need to read what nobody signed
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return _refuse(f"body too large: at most {MAX_BODY} bytes", 413)
        if not signature_ok(channel_secret, body, signature):
            return _refuse("invalid signature", 400)
        try:
            events = read_events(body)
        except (ValueError, RecursionError):
            return JSONResponse({"detail": "invalid body"}, status_code=400)
        if events:
            try:
                stored = await asyncio.wait_for(writer.store(events), STORE_DEADLINE)
            except TimeoutError:
                stored = (
                    False  # answered inside LINE's 2 s; a redelivery finds the events stored, or stores them
                )
            if not stored:
                return JSONResponse({"detail": "try again"}, status_code=503)
        return JSONResponse({})

    return router
