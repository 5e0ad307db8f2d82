"""Calls to the LINE Messaging API through line-bot-sdk, each answer sorted into what the outbox does next."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import urllib3
from linebot.v3.messaging import (
    ApiClient,
    ApiException,
    Configuration,
    MessagingApi,
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)
from urllib3.util.retry import Retry

from storage.outbox import QUOTA_REFUSED


class Outcome(enum.Enum):
    DELIVERED = "delivered"
    DUPLICATE = "duplicate"  # 409 to a push whose retry key LINE already accepted: delivered before
    TOKEN_REFUSED = "token-refused"  # the reply token is spent, expired or unknown
    NOT_SENT = "not-sent"  # refused connection or 429: certainly not delivered, try again later
    UNKNOWN = "unknown"  # 5xx, timeout, dropped connection: may have been delivered
    REJECTED = "rejected"  # another 4xx: sending it again will not help


@dataclass(frozen=True)
class Result:
    """What one call came to; `detail` names a status or an error class, never message content."""

    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class QuotaReading:
    """The month's push quota (None: the plan sets no limit) and the pushes counted against it."""

    quota: int | None
    used: int


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def classify_api_error(exc: ApiException, *, is_reply: bool) -> Result:
    """Sorts an HTTP error answer from LINE."""
    status = int(exc.status or 0)
    body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
    if status == 409 and not is_reply:
        return Result(Outcome.DUPLICATE, status, detail="409 retry key already accepted")
    if status == 429 and "monthly limit" in _message(body).lower():
        # The month's message quota is used up: refused again until the month ends, so not retried; the
        # row is parked as rejected and the coordinators' digest lists the owner to call.
        return Result(Outcome.REJECTED, status, detail=f"429 {QUOTA_REFUSED}")
    if status == 429:
        return Result(Outcome.NOT_SENT, status, _retry_after(exc.headers), "429 rate limited")
    if status in (401, 403):
        # The channel's token, not the message: once an operator renews it, the same message goes through.
        return Result(Outcome.NOT_SENT, status, detail=f"{status} channel access token refused")
    if status >= 500:
        return Result(Outcome.UNKNOWN, status, _retry_after(exc.headers), f"{status} from LINE")
    if is_reply and status == 400 and "reply token" in _message(body).lower():
        return Result(Outcome.TOKEN_REFUSED, status, detail="400 invalid reply token")
    return Result(Outcome.REJECTED, status, detail=f"{status} {_message(body)[:200]}")


def _message(body: str) -> str:
    try:
        parsed = json.loads(body)
    except ValueError:
        return ""
    return str(parsed.get("message", "")) if isinstance(parsed, dict) else ""


def classify_transport_error(exc: Exception) -> Result:
    """Sorts a failure to get any answer: before the request was sent, or possibly after."""
    reason = exc.reason if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason else exc
    if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):  # includes NewConnectionError
        return Result(Outcome.NOT_SENT, detail=type(reason).__name__)
    return Result(Outcome.UNKNOWN, detail=type(reason).__name__)


class LineApi:
    """The Messaging API calls the desk makes: reply, push with a retry key, and the loading animation."""

    def __init__(
        self,
        *,
        base_url: str,
        access_token: str,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        pool_size: int = 8,
    ) -> None:
        config = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        # Only reconnecting is safe to repeat here; the outbox retries the rest with the retry key.
        config.retries = Retry(total=2, connect=2, read=0, status=0, other=0, redirect=0)
        config.connection_pool_maxsize = pool_size
        self._client = ApiClient(config)
        self._api = MessagingApi(self._client)
        self.timeout = (connect_timeout, read_timeout)

    def reply(self, reply_token: str, messages: list[TextMessage]) -> Result:
        """Sends messages with a reply token (free)."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=messages)
        return self._call(
            lambda: self._api.reply_message(request, _request_timeout=self.timeout), is_reply=True
        )

    def push(self, to: str, messages: list[TextMessage], retry_key: str) -> Result:
        """Pushes messages (counted against the quota); a repeat with the same key is not delivered twice."""
        request = PushMessageRequest(to=to, messages=messages)
        return self._call(
            lambda: self._api.push_message(
                request, x_line_retry_key=retry_key, _request_timeout=self.timeout
            ),
            is_reply=False,
        )

    def show_loading(self, user_id: str, seconds: int = 5) -> Result:
        """Shows the owner that the desk is working (5 to 60 seconds, in steps of 5)."""
        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        return self._call(
            lambda: self._api.show_loading_animation(request, _request_timeout=self.timeout), is_reply=False
        )

    def quota(self) -> QuotaReading:
        """The month's message quota and what is used of it (GET /v2/bot/message/quota and
        /quota/consumption); raises ApiException or a urllib3 error when LINE does not tell."""
        limit = self._api.get_message_quota(_request_timeout=self.timeout)
        used = self._api.get_message_quota_consumption(_request_timeout=self.timeout)
        value = limit.value if str(getattr(limit.type, "value", limit.type)) == "limited" else None
        return QuotaReading(quota=value, used=int(used.total_usage or 0))

    def _call(self, send: Callable[[], object], *, is_reply: bool) -> Result:
        try:
            send()
        except ApiException as exc:
            return classify_api_error(exc, is_reply=is_reply)
        except urllib3.exceptions.HTTPError as exc:
            return classify_transport_error(exc)
        except Exception as exc:  # noqa: BLE001 - an answer LINE accepted but the SDK could not read
            return Result(Outcome.UNKNOWN, detail=type(exc).__name__)
        return Result(Outcome.DELIVERED, 200)

    def close(self) -> None:
        """Closes the connection pool."""
        self._client.close()
        self._client.rest_client.pool_manager.clear()
