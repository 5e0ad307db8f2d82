"""The Slack stand-in's HTTP side: Web API calls at `/api/{method}` (arguments from the query string and a
form or JSON body, the token from `Authorization: Bearer` or a `token` argument, as Slack takes them) and
the upload URLs that files.getUploadURLExternal hands out, at `/upload/v1/{file id}`, and response URLs, at
`/response/{id}`."""

from __future__ import annotations

import json
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from tests.slack.standin import SlackStandIn


def _token(headers: dict[str, str], args: dict[str, Any]) -> str | None:
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    token = args.pop("token", None)
    return token if isinstance(token, str) and token else None


def _arguments(query: str, headers: dict[str, str], raw: bytes) -> dict[str, Any] | None:
    """The call's arguments from the query string and a form or JSON body; None when the JSON is broken."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if kind == "application/json" and raw:
        try:
            body = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(body, dict):
            return None
        args.update(body)
    elif raw:
        args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
    return args


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that went away (a timeout under test) is expected here


def handler_for(standin: SlackStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            self._serve()

        def do_GET(self) -> None:  # noqa: N802
            self._serve()

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if parts.path.startswith("/upload/v1/"):
                accepted = standin.receive_upload(parts.path.rsplit("/", 1)[1], raw)
                self._send(
                    200 if accepted else 404, f"OK - {len(raw)}" if accepted else "Not Found", "text/plain"
                )
                return
            if parts.path.startswith("/response/"):
                status, response = standin.post_response(parts.path.rsplit("/", 1)[1], raw)
                self._send(status, json.dumps(response))
                return
            if not parts.path.startswith("/api/"):
                self._send(404, json.dumps({"ok": False, "error": "unknown_method"}))
                return
            method = parts.path.removeprefix("/api/")
            args = _arguments(parts.query, headers, raw)
            answer: dict[str, Any] | None
            if args is None:
                status, answer, retry_after = 200, {"ok": False, "error": "invalid_json"}, None
            else:
                status, answer, retry_after = standin.answer(method, _token(headers, args), args)
            if answer is None:  # hang up without a word
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self._send(status, json.dumps(answer, ensure_ascii=False), retry_after=retry_after)

        def _send(
            self, status: int, body: str, kind: str = "application/json", retry_after: int | None = None
        ) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if retry_after is not None:
                self.send_header("Retry-After", str(retry_after))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
