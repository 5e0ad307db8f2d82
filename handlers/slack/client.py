"""slack_sdk Web API clients for the desk's Slack app: pointed at SLACK_API_BASE_URL, and retrying a 429
after its Retry-After, a 500/503 and a dropped connection (slack_sdk's defaults cover the last only)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from handlers.settings import Settings

TIMEOUT = 10  # seconds a call may take (Slack answers in well under one)
RATE_LIMIT_RETRIES = 3


def api_base_url(settings: Settings) -> str:
    """SLACK_API_BASE_URL with the trailing slash slack_sdk joins method names to."""
    url = settings.slack_api_base_url
    return url if url.endswith("/") else url + "/"


def async_web_client(settings: Settings, *, token: str | None = None) -> AsyncWebClient:
    """The async client bolt hands the listeners (bolt sets the bot token on each request's copy)."""
    return AsyncWebClient(
        token=token,
        base_url=api_base_url(settings),
        timeout=TIMEOUT,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            AsyncServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def web_client(settings: Settings) -> WebClient:
    """A blocking client with the bot token, for worker threads (the outbox)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=api_base_url(settings),
        timeout=TIMEOUT,
        retry_handlers=[
            ConnectionErrorRetryHandler(),
            RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ServerErrorRetryHandler(max_retry_count=1),
        ],
    )


def posting_client(settings: Settings) -> WebClient:
    """A blocking client that retries only what Slack did not carry out (a 429): the card delivery's. A post
    whose answer was lost may have gone through, and Slack has no idempotency key, so the delivery itself
    looks in the channel before posting again rather than letting the client repeat it."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    return WebClient(
        token=token,
        base_url=api_base_url(settings),
        timeout=TIMEOUT,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )
