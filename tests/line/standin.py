"""A local stand-in for the LINE Messaging API: a real HTTP server that enforces LINE's documented limits.

It answers reply, push, the loading animation and the rich menu calls (create, list, image upload on what
is LINE's api-data host, default for all users, delete) as LINE does, refuses what LINE would refuse (too many
messages, long labels and texts, a retry key on a reply, a spent or expired reply token), answers 409 to
a push whose retry key it already accepted, records every delivery, and can be told to fail: a number of
times, or for as long as an outage lasts (5xx and timeouts in turn, some after accepting the message).
"""

from __future__ import annotations

import io
import json
import re
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image

TOKEN = "test-channel-access-token"
_PICKER = {
    "date": r"\d{4}-\d{2}-\d{2}",
    "time": r"\d{2}:\d{2}",
    "datetime": r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}",
}


@dataclass
class Delivery:
    kind: str  # "reply" or "push"
    user_id: str
    messages: list[dict[str, Any]]
    retry_key: str | None
    at: float

    @property
    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.messages]


@dataclass
class Fault:
    status: int
    times: int
    deliver_first: bool = False  # record the delivery, then answer the error (the answer "got lost")
    hang: float = 0.0  # keep the caller waiting this long first (past its read timeout: a timeout)


@dataclass
class LineState:
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # reply token -> (user, expiry)
    used_tokens: set[str] = field(default_factory=set)
    accepted_keys: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    requests: list[tuple[str, int, str | None]] = field(default_factory=list)  # path, status, retry key
    loading: list[str] = field(default_factory=list)
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    delay: float = 0.0
    hang_after_accept: dict[str, float] = field(default_factory=dict)
    refuse_reply_tokens: bool = False
    outage: dict[str, list[Fault]] = field(default_factory=dict)  # path -> the failures it answers in turn
    outage_calls: dict[str, int] = field(default_factory=dict)
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> the menu object LINE keeps
    rich_menu_images: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # id -> content type, data
    default_rich_menu: str | None = None
    # The month's push quota (GET /v2/bot/message/quota: None answers type "none") and its use; with
    # `enforce_quota`, a push past it is refused with 429 as LINE refuses it.
    quota: int | None = 200
    quota_used: int = 0
    enforce_quota: bool = False


def validate_messages(messages: Any) -> str | None:
    """What LINE would say is wrong with a messages array, or None."""
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return "messages: must be 1 to 5 messages"
    for i, m in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            return f"{where}: not an object"
        if m.get("type") == "text":
            if not isinstance(m.get("text"), str) or not 1 <= len(m["text"]) <= 5000:
                return f"{where}.text: 1 to 5000 characters"
        elif m.get("type") in ("flex", "template"):
            if not isinstance(m.get("altText"), str) or not 1 <= len(m["altText"]) <= 400:
                return f"{where}.altText: 1 to 400 characters"
        else:
            return f"{where}.type: not supported by the stand-in"
        quick = m.get("quickReply")
        if quick is not None:
            items = quick.get("items") if isinstance(quick, dict) else None
            if not isinstance(items, list) or not 1 <= len(items) <= 13:
                return f"{where}.quickReply.items: 1 to 13 items"
            for j, item in enumerate(items):
                problem = _validate_action(item.get("action") if isinstance(item, dict) else None)
                if problem:
                    return f"{where}.quickReply.items[{j}].action.{problem}"
    return None


def _validate_action(action: Any) -> str | None:
    if not isinstance(action, dict):
        return "missing"
    label = action.get("label")
    if not isinstance(label, str) or not 1 <= len(label) <= 20:
        return "label: 1 to 20 characters"
    kind = action.get("type")
    if kind not in ("postback", "datetimepicker", "message"):
        return "type: not supported by the stand-in"
    if kind in ("postback", "datetimepicker") and (
        not isinstance(action.get("data"), str) or len(action["data"]) > 300
    ):
        return "data: at most 300 characters"
    shown = action.get("displayText")
    if (
        kind == "postback"
        and shown is not None
        and (not isinstance(shown, str) or not 1 <= len(shown) <= 300)
    ):
        return "displayText: 1 to 300 characters"
    if kind == "datetimepicker":
        pattern = _PICKER.get(action.get("mode", ""))
        if pattern is None:
            return "mode: date, time or datetime"
        values = {k: action[k] for k in ("initial", "min", "max") if action.get(k) is not None}
        if any(not re.fullmatch(pattern, v) for v in values.values()):
            return "initial/min/max: wrong format"
        if "min" in values and "max" in values and values["min"] >= values["max"]:
            return "min: must be before max"
        if "initial" in values and not values.get("min", "") <= values["initial"] <= values.get("max", "~"):
            return "initial: must be between min and max"
    return None


RICH_MENU_IMAGE_BYTES = 1024 * 1024  # LINE: an image of at most 1 MB, JPEG or PNG, the menu's size
RICH_MENU_CONTENT = "/v2/bot/richmenu/{richMenuId}/content"  # the upload's path, to `fail` it
_RICH_MENU_ID = re.compile(r"/(richmenu-[0-9a-f]{32})(?:/|$)")


def _int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def validate_rich_menu(menu: Any) -> str | None:
    """What LINE would say is wrong with a rich menu object, or None."""
    if not isinstance(menu, dict):
        return "not an object"
    size = menu.get("size")
    if not isinstance(size, dict) or not (_int(size.get("width"), 800) and _int(size.get("height"), 250)):
        return "size: width 800 to 2500, height at least 250"
    width, height = size["width"], size["height"]
    if width > 2500 or width / height < 1.45:
        return "size: width 800 to 2500, width/height at least 1.45"
    if not isinstance(menu.get("selected"), bool):
        return "selected: required, true or false"
    if not isinstance(menu.get("name"), str) or not 1 <= len(menu["name"]) <= 300:
        return "name: 1 to 300 characters"
    if not isinstance(menu.get("chatBarText"), str) or not 1 <= len(menu["chatBarText"]) <= 14:
        return "chatBarText: 1 to 14 characters"
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= 20:
        return "areas: 1 to 20 areas"
    for i, area in enumerate(areas):
        bounds = area.get("bounds") if isinstance(area, dict) else None
        if not isinstance(bounds, dict) or not (
            _int(bounds.get("x"), 0)
            and _int(bounds.get("y"), 0)
            and _int(bounds.get("width"), 1)
            and _int(bounds.get("height"), 1)
        ):
            return f"areas[{i}].bounds: x, y, width and height required"
        if bounds["x"] + bounds["width"] > width or bounds["y"] + bounds["height"] > height:
            return f"areas[{i}].bounds: outside the rich menu"
        action = area.get("action")
        if not isinstance(action, dict) or action.get("type") not in ("message", "postback"):
            return f"areas[{i}].action.type: not supported by the stand-in"
        label = action.get("label")
        if label is not None and (not isinstance(label, str) or not 1 <= len(label) <= 20):
            return f"areas[{i}].action.label: 1 to 20 characters"
        if action["type"] == "message" and (
            not isinstance(action.get("text"), str) or not 1 <= len(action["text"]) <= 300
        ):
            return f"areas[{i}].action.text: 1 to 300 characters"
        if action["type"] == "postback" and (
            not isinstance(action.get("data"), str) or not 1 <= len(action["data"]) <= 300
        ):
            return f"areas[{i}].action.data: 1 to 300 characters"
    return None


def validate_rich_menu_image(content_type: str, data: bytes, size: dict[str, int]) -> str | None:
    """What LINE would say is wrong with a rich menu's image, or None."""
    if content_type not in ("image/png", "image/jpeg"):
        return "Content-Type: image/png or image/jpeg"
    if not 0 < len(data) <= RICH_MENU_IMAGE_BYTES:
        return "the image must be at most 1 MB"
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception:  # noqa: BLE001 - whatever Pillow cannot read, LINE cannot either
        return "the image could not be read"
    if image.format != {"image/png": "PNG", "image/jpeg": "JPEG"}[content_type]:
        return "the image is not in the format its Content-Type says"
    if image.size != (size["width"], size["height"]):
        return "the image must be the rich menu's size"
    return None


class LineStandIn:
    """The stand-in server, on a free loopback port, in a thread of the test process."""

    def __init__(self) -> None:
        self.state = LineState()
        self.lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self.released = threading.Event()
        self.outage_over = threading.Event()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="line-standin", daemon=True)

    def start(self) -> LineStandIn:
        self._thread.start()
        return self

    def close(self) -> None:
        self.released.set()
        self.outage_over.set()
        self.server.shutdown()
        self.server.server_close()

    # What tests set up
    def set_quota(self, quota: int | None, used: int = 0, *, enforce: bool = False) -> None:
        """What the quota endpoints answer, and whether pushes past the quota are refused (429)."""
        with self.lock:
            self.state.quota, self.state.quota_used, self.state.enforce_quota = quota, used, enforce

    def answer_quota(self, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Authentication failed"}
        with self.lock:
            fault = self._take_fault(path)
            if fault:
                return fault.status, {"message": "stand-in failure"}
            if path == "/v2/bot/message/quota":
                quota = self.state.quota
                return 200, ({"type": "none"} if quota is None else {"type": "limited", "value": quota})
            return 200, {"totalUsage": self.state.quota_used}

    def issue_reply_token(self, user_id: str, ttl: float = 60.0) -> str:
        token = secrets.token_hex(16)
        with self.lock:
            self.state.tokens[token] = (user_id, time.monotonic() + ttl)
        return token

    def fail(self, path: str, status: int, times: int = 1, *, deliver_first: bool = False) -> None:
        """The next `times` calls of a path answer `status` (429 with Retry-After: 1)."""
        with self.lock:
            self.state.faults.setdefault(path, []).append(Fault(status, times, deliver_first))

    def begin_outage(self, hang: float = 5.0, *, accepting_pushes: bool = True) -> None:
        """Until `end_outage`, replies and pushes fail in turn: 503, a timeout (no answer for `hang`
        seconds or until the outage ends), 500, 502; some pushes are accepted first and then fail the same
        ways (LINE had them; the caller cannot know). A failed reply leaves its token usable."""
        timeout = Fault(504, 0, hang=hang)
        failing = [Fault(503, 0), timeout, Fault(500, 0), Fault(502, 0)]
        accepted = [Fault(500, 0, deliver_first=True), Fault(504, 0, deliver_first=True, hang=hang)]
        with self.lock:
            self.outage_over.clear()
            self.state.outage = {
                "/v2/bot/message/reply": failing,
                "/v2/bot/message/push": failing + (accepted if accepting_pushes else []),
            }

    def end_outage(self) -> None:
        with self.lock:
            self.state.outage = {}
        self.outage_over.set()

    def set_delay(self, seconds: float) -> None:
        self.state.delay = seconds

    def hang_after_accepting(self, path: str, seconds: float) -> None:
        """Records deliveries on a path, then keeps the caller waiting (until `release_hangs`)."""
        self.released.clear()
        self.state.hang_after_accept[path] = seconds

    def release_hangs(self) -> None:
        self.state.hang_after_accept.clear()
        self.released.set()

    def refuse_reply_tokens(self, refuse: bool = True) -> None:
        self.state.refuse_reply_tokens = refuse

    # What tests read
    def deliveries_to(self, user_id: str) -> list[Delivery]:
        with self.lock:
            return [d for d in self.state.deliveries if d.user_id == user_id]

    @property
    def deliveries(self) -> list[Delivery]:
        with self.lock:
            return list(self.state.deliveries)

    def rich_menus(self) -> dict[str, dict[str, Any]]:
        with self.lock:
            return {k: dict(v) for k, v in self.state.rich_menus.items()}

    def rich_menu_image(self, menu_id: str) -> Image.Image:
        with self.lock:
            _, data = self.state.rich_menu_images[menu_id]
        return Image.open(io.BytesIO(data))

    @property
    def default_rich_menu(self) -> str | None:
        with self.lock:
            return self.state.default_rich_menu

    def statuses(self, path: str) -> list[int]:
        with self.lock:
            return [status for p, status, _ in self.state.requests if p == path]

    def wait_for(self, predicate: Any, timeout: float = 10.0, what: str = "the stand-in") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}")

    def wait_for_deliveries(self, user_id: str, count: int, timeout: float = 10.0) -> list[Delivery]:
        self.wait_for(lambda: len(self.deliveries_to(user_id)) >= count, timeout, f"{count} deliveries")
        return self.deliveries_to(user_id)

    # The API
    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self.state.delay:
            time.sleep(self.state.delay)
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Authentication failed"}
        retry_key = headers.get("x-line-retry-key")
        if retry_key is not None and path != "/v2/bot/message/push":
            return 400, {"message": "The retry key is not allowed for this API"}
        if path == "/v2/bot/chat/loading/start":
            seconds = body.get("loadingSeconds", 20)
            if not isinstance(body.get("chatId"), str) or seconds not in range(5, 61, 5):
                return 400, {"message": "The request body has 1 error(s)"}
            with self.lock:
                self.state.loading.append(body["chatId"])
            return 202, {}
        if path not in ("/v2/bot/message/reply", "/v2/bot/message/push"):
            return 404, {"message": "Not found"}
        if path == "/v2/bot/message/push" and retry_key is None:
            # LINE takes it, but Madoguchi's rule is that every push carries its row's key.
            return 400, {"message": "stand-in: Madoguchi pushes always carry an X-Line-Retry-Key"}
        if retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                return 400, {"message": "The value for the 'X-Line-Retry-Key' header is invalid"}
        problem = validate_messages(body.get("messages"))
        if problem:
            return 400, {"message": "The request body has 1 error(s)", "details": [{"message": problem}]}
        refused: Fault | None = None
        with self.lock:
            fault = self._take_fault(path) or self._outage_fault(path)
            if path == "/v2/bot/message/reply":
                user_id = self._use_token(body.get("replyToken"), fault)
                if user_id is None:
                    return 400, {"message": "Invalid reply token"}
            else:
                user_id = body.get("to")
                if not isinstance(user_id, str) or not user_id.startswith("U"):
                    return 400, {"message": "The property, 'to', in the request body is invalid"}
            if fault and (not fault.deliver_first or retry_key in self.state.accepted_keys):
                refused = fault  # (a failing LINE answers no 409 either)
            elif retry_key is not None and retry_key in self.state.accepted_keys:
                return 409, {
                    "message": "The retry key is already accepted",
                    "sentMessages": self.state.accepted_keys[retry_key],
                }
            elif (
                path == "/v2/bot/message/push"
                and self.state.enforce_quota
                and self.state.quota is not None
                and self.state.quota_used >= self.state.quota
            ):
                return 429, {"message": "You have reached your monthly limit."}
            else:
                if path == "/v2/bot/message/push":
                    self.state.quota_used += 1
                sent = [
                    {"id": str(uuid.uuid4().int)[:18], "quoteToken": secrets.token_urlsafe(12)}
                    for _ in body["messages"]
                ]
                if retry_key is not None:
                    self.state.accepted_keys[retry_key] = sent
                self.state.deliveries.append(
                    Delivery(path.rsplit("/", 1)[-1], user_id, body["messages"], retry_key, time.monotonic())
                )
        if refused:
            if refused.hang:
                self.outage_over.wait(refused.hang)
            return refused.status, {"message": "stand-in failure"}
        hang = self.state.hang_after_accept.get(path)
        if hang:
            self.released.wait(hang)
        if fault:
            if fault.hang:
                self.outage_over.wait(fault.hang)
            return fault.status, {"message": "stand-in failure after delivery"}
        return 200, {"sentMessages": sent}

    def answer_rich_menu(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, Any]]:
        """The rich menu calls; the image upload is raw bytes, the rest JSON or no body."""
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Authentication failed"}
        if "x-line-retry-key" in headers:
            return 400, {"message": "The retry key is not allowed for this API"}
        found = _RICH_MENU_ID.search(path)
        menu_id = found.group(1) if found else None
        with self.lock:
            menus = self.state.rich_menus
            if (method, path) == ("POST", "/v2/bot/richmenu"):
                try:
                    menu = json.loads(raw or b"null")
                except ValueError:
                    return 400, {"message": "The request body could not be parsed as JSON"}
                problem = validate_rich_menu(menu)
                if problem:
                    return 400, {
                        "message": "The request body has 1 error(s)",
                        "details": [{"message": problem}],
                    }
                if len(menus) >= 1000:
                    return 400, {"message": "The number of rich menus has reached the limit (1000)"}
                new_id = f"richmenu-{secrets.token_hex(16)}"
                menus[new_id] = {"richMenuId": new_id, **menu}
                return 200, {"richMenuId": new_id}
            if (method, path) == ("GET", "/v2/bot/richmenu/list"):
                return 200, {"richmenus": [dict(m) for m in menus.values()]}
            if (method, path) == ("GET", "/v2/bot/user/all/richmenu"):
                if self.state.default_rich_menu is None:
                    return 404, {"message": "no default richmenu"}
                return 200, {"richMenuId": self.state.default_rich_menu}
            if menu_id is None or menu_id not in menus:
                return 404, {"message": "Not found"}
            if method == "POST" and path == f"/v2/bot/richmenu/{menu_id}/content":
                fault = self._take_fault(RICH_MENU_CONTENT)  # `fail(RICH_MENU_CONTENT, ...)` in a test
                if fault:
                    return fault.status, {"message": "stand-in failure"}
                if menu_id in self.state.rich_menu_images:
                    return 400, {"message": "An image has already been uploaded to the richmenu"}
                content_type = headers.get("content-type", "").split(";")[0].strip()
                problem = validate_rich_menu_image(content_type, raw, menus[menu_id]["size"])
                if problem:
                    return 400, {"message": problem}
                self.state.rich_menu_images[menu_id] = (content_type, raw)
                return 200, {}
            if method == "POST" and path == f"/v2/bot/user/all/richmenu/{menu_id}":
                if menu_id not in self.state.rich_menu_images:
                    return 400, {"message": "must upload richmenu image before applying it to user"}
                self.state.default_rich_menu = menu_id
                return 200, {}
            if method == "DELETE" and path == f"/v2/bot/richmenu/{menu_id}":
                del menus[menu_id]
                self.state.rich_menu_images.pop(menu_id, None)
                if self.state.default_rich_menu == menu_id:
                    self.state.default_rich_menu = None
                return 200, {}
        return 404, {"message": "Not found"}

    def _outage_fault(self, path: str) -> Fault | None:
        faults = self.state.outage.get(path)
        if not faults:
            return None
        calls = self.state.outage_calls[path] = self.state.outage_calls.get(path, -1) + 1
        return faults[calls % len(faults)]

    def _take_fault(self, path: str) -> Fault | None:
        faults = self.state.faults.get(path) or []
        if not faults:
            return None
        fault = faults[0]
        fault.times -= 1
        if fault.times <= 0:
            faults.pop(0)
        return fault

    def _use_token(self, token: Any, fault: Fault | None) -> str | None:
        if self.state.refuse_reply_tokens or not isinstance(token, str) or token in self.state.used_tokens:
            return None
        user_id, expiry = self.state.tokens.get(token, (None, 0.0))
        if user_id is None or time.monotonic() > expiry:
            return None
        if fault is None or fault.deliver_first:
            self.state.used_tokens.add(token)  # a failed reply leaves the token usable
        return user_id


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a killed server under test) is expected here


def _handler_for(standin: LineStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms wait between them

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            self._serve("POST")

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            path = self.path.split("?", 1)[0]
            headers = {k.lower(): v for k, v in self.headers.items()}
            if method == "GET" and path in ("/v2/bot/message/quota", "/v2/bot/message/quota/consumption"):
                status, answer = standin.answer_quota(path, headers)
            elif path.startswith(("/v2/bot/richmenu", "/v2/bot/user/all/richmenu")):
                status, answer = standin.answer_rich_menu(method, path, headers, raw)
            elif method != "POST":
                status, answer = 404, {"message": "Not found"}
            else:
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    status, answer = 400, {"message": "The request body could not be parsed as JSON"}
                else:
                    status, answer = standin.answer(path, headers, body if isinstance(body, dict) else {})
            with standin.lock:
                standin.state.requests.append((path, status, headers.get("x-line-retry-key")))
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
