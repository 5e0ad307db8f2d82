"""A local stand-in for Slack's Web API: a real HTTP server, driven by the real `slack_sdk` clients
(`WebClient(base_url=standin.api_url)`), that answers as Slack does and enforces Slack's documented limits.

It records every call (method, token, arguments, time, status, answer) and keeps a workspace: channels,
messages and threads (`chat.postMessage`, `chat.update`, `chat.delete`, `chat.getPermalink`, message
metadata), ephemeral messages apart (`chat.postEphemeral`), history and threads with Slack's paging
(`conversations.history`, `conversations.replies`), DMs (`conversations.open`), users (`users.info`), modals
and the home tab (`views.open`, `views.push`, `views.update`, `views.publish`, trigger ids valid 3 s and once)
and external file uploads (`files.getUploadURLExternal`, the upload URL, `files.completeUploadExternal`), so
`files_upload_v2` works end to end, and response URLs (`responses.py`). A bearer token is required
(`not_authed`, `invalid_auth`).

Told to, it misbehaves: 429 with `Retry-After` for the next calls, 5xx, a refusal (`missing_scope`, say), a
dropped connection (optionally after accepting the call: the caller cannot know it went through), an outage,
a slow Slack, and Slack's one-post-a-second pace per channel.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.slack.responses import ResponseUrls
from tests.slack.surfaces import Surfaces, Upload, View
from tests.slack.transport import QuietServer, handler_for
from tests.slack.workspace import (
    BOT_ID,
    BOT_USER,
    TEAM_ID,
    WORKSPACE_URL,
    Channel,
    Ephemeral,
    Message,
    SlackError,
    Workspace,
)

BOT_TOKEN = "xoxb-test-madoguchi-bot-token"
INTAKE_CHANNEL = "C0INTAKE01"
INTAKE_CHANNEL_NAME = "madoguchi-intake"
COORDINATORS = {"U0COORD001": "鹿児島 一郎", "U0COORD002": "薩摩 花子"}
MANAGER = "U0MANAGER1"


@dataclass(frozen=True)
class Call:
    """One request to the Web API as the stand-in saw it, and what it answered (None: it hung up)."""

    method: str
    token: str | None
    args: dict[str, Any]
    at: float  # time.monotonic() when it arrived
    status: int
    answer: dict[str, Any] | None

    @property
    def ok(self) -> bool:
        return bool(self.answer and self.answer.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.answer is None else self.answer.get("error")


@dataclass
class Fault:
    """What the next `times` calls (of `method`, or of any method) get instead of an answer."""

    times: int
    method: str | None
    status: int = 0  # 0: the connection is dropped without an answer
    retry_after: int | None = None
    accept_first: bool = False  # the call takes effect first, then the answer is lost
    error: str | None = None  # a 200 with this `error` (Slack refusing the call) instead of a status

    def matches(self, method: str) -> bool:
        return self.times > 0 and self.method in (None, method)


@dataclass
class _Misbehaviour:
    faults: list[Fault] = field(default_factory=list)
    outage: int | None = None  # every call answers this status until the outage ends
    delays: dict[str | None, float] = field(default_factory=dict)  # method (None: all) -> seconds
    pace: float | None = None  # chat.postMessage to a channel at most once in this many seconds
    last_post: dict[str, float] = field(default_factory=dict)


class SlackStandIn:
    """The stand-in server, on a free loopback port, in a thread of the test process."""

    def __init__(self, tokens: set[str] | None = None) -> None:
        self.tokens = set(tokens) if tokens is not None else {BOT_TOKEN}
        self.lock = threading.Lock()
        self.workspace = Workspace(lambda: int(time.time() * 1_000_000))
        self.surfaces = Surfaces(self.workspace)
        self.response_urls = ResponseUrls(self.workspace)
        self.add_channel(INTAKE_CHANNEL, INTAKE_CHANNEL_NAME)
        for user_id, name in COORDINATORS.items():
            self.add_user(user_id, name)
        self.add_user(MANAGER, "霧島 課長")
        self._calls: list[Call] = []
        self._misbehaviour = _Misbehaviour()
        self._closing = threading.Event()
        self.server = QuietServer(("127.0.0.1", 0), handler_for(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.api_url = f"{self.url}/api/"  # what SLACK_API_BASE_URL points at
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="slack-standin", daemon=True
        )  # polled every 50 ms: teardown need not wait http.server's default half second

    def start(self) -> SlackStandIn:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    # What tests set up
    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> None:
        """A channel; `member=False`: the app was not invited (posting and reading are not_in_channel)."""
        with self.lock:
            self.workspace.channels[channel_id] = Channel(channel_id, name, member=member)

    def add_user(
        self, user_id: str, real_name: str, *, email: str | None = None, is_bot: bool = False
    ) -> None:
        profile: dict[str, Any] = {"real_name": real_name, "display_name": real_name}
        if email is not None:
            profile["email"] = email
        with self.lock:
            self.workspace.users[user_id] = {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": user_id.lower(),
                "real_name": real_name,
                "deleted": False,
                "is_bot": is_bot,
                "tz": "Asia/Tokyo",
                "tz_label": "Japan Standard Time",
                "tz_offset": 32400,
                "profile": profile,
            }

    def issue_trigger_id(self, user: str, ttl: float = 3.0) -> str:
        """The trigger_id an interaction of `user` carries: one views.open or views.push within `ttl` s."""
        with self.lock:
            return self.surfaces.issue_trigger(user, ttl)

    def issue_response_url(self, channel: str, user: str, *, message_ts: str | None = None) -> str:
        """The response_url an interaction (on the message `message_ts`) or a slash command carries."""
        with self.lock:
            return f"{self.url}/response/{self.response_urls.issue(channel, user, message_ts)}"

    def post_as_user(self, channel: str, user: str, text: str, *, thread_ts: str | None = None) -> str:
        """A person's message in a channel or thread (what the Events API will tell the app about)."""
        with self.lock:
            message = Message(
                channel, self.workspace.next_ts(), user, text, thread_ts=thread_ts, by_app=False
            )
            return self.workspace.add(self.workspace.channel(channel), message).ts

    def close_modal(self, user: str) -> None:
        with self.lock:
            self.surfaces.close_modals(user)

    def rate_limit(self, times: int = 1, *, method: str | None = None, retry_after: int = 1) -> None:
        """The next `times` calls (of `method`) answer 429 `ratelimited` with `Retry-After`."""
        with self.lock:
            self._misbehaviour.faults.append(Fault(times, method, 429, retry_after))

    def fail(
        self, status: int = 500, times: int = 1, *, method: str | None = None, accept_first: bool = False
    ) -> None:
        """The next `times` calls (of `method`) answer `status`; with `accept_first` they take effect."""
        with self.lock:
            self._misbehaviour.faults.append(Fault(times, method, status, accept_first=accept_first))

    def refuse(self, error: str, times: int = 1, *, method: str | None = None) -> None:
        """The next `times` calls (of `method`) are refused with `error` (e.g. `missing_scope`), as Slack does."""
        with self.lock:
            self._misbehaviour.faults.append(Fault(times, method, 200, error=error))

    def drop(self, times: int = 1, *, method: str | None = None, accept_first: bool = False) -> None:
        """The next `times` calls (of `method`) get their connection closed with no answer."""
        with self.lock:
            self._misbehaviour.faults.append(Fault(times, method, 0, accept_first=accept_first))

    def begin_outage(self, status: int = 503) -> None:
        """Every call answers `status` until `end_outage`."""
        with self.lock:
            self._misbehaviour.outage = status

    def end_outage(self) -> None:
        with self.lock:
            self._misbehaviour.outage = None

    def delay(self, seconds: float, *, method: str | None = None) -> None:
        """Slack answers (calls of `method`) `seconds` late, until set back to 0."""
        with self.lock:
            self._misbehaviour.delays[method] = seconds

    def pace_posts(self, seconds: float | None = 1.0) -> None:
        """A second chat.postMessage to a channel within `seconds` answers 429 (Slack's 1 a second)."""
        with self.lock:
            self._misbehaviour.pace = seconds

    # What tests read
    def calls(self, method: str | None = None) -> list[Call]:
        with self.lock:
            return [c for c in self._calls if method in (None, c.method)]

    def messages(self, channel: str = INTAKE_CHANNEL) -> list[dict[str, Any]]:
        """A channel's top-level messages, oldest first, as Slack shows them (metadata included)."""
        with self.lock:
            kept = self.workspace.channel(channel).messages.values()
            return [m.as_slack(self.workspace) for m in kept if m.thread_ts is None]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """A thread's replies, oldest first."""
        with self.lock:
            parent = self.workspace.message(self.workspace.channel(channel).id, ts)
            return [
                self.workspace.message(parent.channel, r).as_slack(self.workspace) for r in parent.replies
            ]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self.lock:
            return self.workspace.message(self.workspace.channel(channel).id, ts).as_slack(self.workspace)

    def ephemerals(self, user: str | None = None) -> list[Ephemeral]:
        with self.lock:
            return [e for e in self.workspace.ephemerals if user in (None, e.user)]

    def views(self, user: str | None = None) -> list[View]:
        """Every modal and home view opened, pushed or published (for `user`), in order."""
        with self.lock:
            return [v for v in self.surfaces.views.values() if user in (None, v.user)]

    def open_modals(self, user: str) -> list[View]:
        with self.lock:
            return [self.surfaces.views[v] for v in self.surfaces.stacks.get(user, [])]

    def home(self, user: str) -> View | None:
        with self.lock:
            return self.surfaces.views.get(self.surfaces.homes.get(user, ""))

    def responses(self, url: str) -> list[dict[str, Any]]:
        """What was accepted at a response URL, in order."""
        with self.lock:
            return list(self.response_urls.urls[url.rsplit("/", 1)[1]].bodies)

    def files(self) -> list[Upload]:
        """Files shared with files.completeUploadExternal, in order, with their bytes."""
        with self.lock:
            return [u for u in self.surfaces.uploads.values() if u.completed]

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, what: str = "the stand-in"
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def wait_for_calls(self, method: str, count: int, timeout: float = 10.0) -> list[Call]:
        self.wait_for(lambda: len(self.calls(method)) >= count, timeout, f"{count} calls of {method}")
        return self.calls(method)

    # The API
    def _methods(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        ws, views = self.workspace, self.surfaces
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": ws.post_message,
            "chat.update": ws.update,
            "chat.delete": ws.delete,
            "chat.postEphemeral": ws.post_ephemeral,
            "chat.getPermalink": ws.permalink,
            "conversations.history": ws.history,
            "conversations.replies": ws.replies,
            "conversations.open": ws.open_conversation,
            "users.info": ws.user_info,
            "views.open": views.open,
            "views.push": views.push,
            "views.update": views.update,
            "views.publish": views.publish,
            "files.getUploadURLExternal": lambda args: views.upload_url(args, self.url),
            "files.completeUploadExternal": views.complete,
        }

    @staticmethod
    def _auth_test(args: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": WORKSPACE_URL,
            "team": "Madoguchi Test",
            "user": "madoguchi",
            "team_id": TEAM_ID,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _fault_for(self, method: str, channel: Any) -> Fault | None:
        """The misbehaviour this call meets, if any (taken from the queue)."""
        misbehaving = self._misbehaviour
        if misbehaving.outage is not None:
            return Fault(1, None, misbehaving.outage)
        for fault in misbehaving.faults:
            if fault.matches(method):
                fault.times -= 1
                misbehaving.faults = [f for f in misbehaving.faults if f.times > 0]
                return fault
        if misbehaving.pace is not None and method == "chat.postMessage" and isinstance(channel, str):
            now = time.monotonic()
            if now - misbehaving.last_post.get(channel, -1e9) < misbehaving.pace:
                return Fault(1, method, 429, retry_after=1)
            misbehaving.last_post[channel] = now
        return None

    def answer(
        self, method: str, token: str | None, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any] | None, int | None]:
        """Slack's status, answer (None: drop the connection) and Retry-After for one call."""
        with self.lock:
            delay = self._misbehaviour.delays.get(method) or self._misbehaviour.delays.get(None) or 0.0
        if delay:
            self._closing.wait(delay)
        arrived = time.monotonic()
        with self.lock:
            fault = self._fault_for(method, args.get("channel"))
            answer: dict[str, Any] | None = None
            if fault is None or fault.accept_first:
                answer = self._answer(method, token, args)
            status, retry_after = 200, None
            if fault is not None and fault.error is not None:
                answer = {"ok": False, "error": fault.error}
            elif fault is not None:
                status, retry_after = fault.status, fault.retry_after
                answer = {
                    429: {"ok": False, "error": "ratelimited"},
                    0: None,
                }.get(status, {"ok": False, "error": "fatal_error"})
            self._calls.append(Call(method, token, args, arrived, status, answer))
        return status, answer, retry_after

    def _answer(self, method: str, token: str | None, args: dict[str, Any]) -> dict[str, Any]:
        if not token:
            return {"ok": False, "error": "not_authed"}
        if token not in self.tokens:
            return {"ok": False, "error": "invalid_auth"}
        handler = self._methods().get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        try:
            return handler(args)
        except SlackError as refused:
            return refused.answer()

    def post_response(self, url_id: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        with self.lock:
            return self.response_urls.post(url_id, raw)

    def receive_upload(self, file_id: str, data: bytes) -> bool:
        with self.lock:
            return self.surfaces.receive(file_id, data)
