"""The Slack stand-in answers the real slack_sdk clients as Slack does: messages, threads and history with
paging, metadata, ephemeral messages, modals, DMs, file uploads, tokens, and the faults it can be told of."""

from __future__ import annotations

import asyncio
import json

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import (
    ConnectionErrorRetryHandler,
    FixedValueRetryIntervalCalculator,
    RateLimitErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from tests.slack.standin import BOT_TOKEN, COORDINATORS, INTAKE_CHANNEL, MANAGER, SlackStandIn

COORDINATOR = next(iter(COORDINATORS))
QUICK = FixedValueRetryIntervalCalculator(0.05)  # slack_sdk's retry handlers, without their back-off waits
MODAL = {"type": "modal", "title": {"type": "plain_text", "text": "日時の提案"}, "blocks": []}


def test_message_timestamps_increase_and_history_pages_newest_first(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    posted = [
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text=f"申込み{i}")["ts"] for i in range(7)
    ]

    # slack_sdk's response iterates over the pages by cursor, itself becoming each page in turn.
    pages = [dict(page.data) for page in slack_client.conversations_history(channel=INTAKE_CHANNEL, limit=3)]
    after_third = slack_client.conversations_history(channel=INTAKE_CHANNEL, oldest=posted[2])

    assert posted == sorted(posted, key=float) and len(set(posted)) == 7
    assert [len(page["messages"]) for page in pages] == [3, 3, 1]
    assert [page["has_more"] for page in pages] == [True, True, False]
    assert [m["ts"] for page in pages for m in page["messages"]] == posted[::-1]
    assert [m["text"] for m in after_third["messages"]] == [f"申込み{i}" for i in (6, 5, 4, 3)]


def test_a_thread_is_its_parent_then_its_replies_and_stays_out_of_history(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    card = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")["ts"]
    replies = [
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text=f"返信{i}", thread_ts=card)["ts"]
        for i in range(3)
    ]
    from_coordinator = slack.post_as_user(INTAKE_CHANNEL, COORDINATOR, "承知しました", thread_ts=card)

    pages = [
        dict(p.data)
        for p in slack_client.conversations_replies(channel=INTAKE_CHANNEL, ts=replies[1], limit=2)
    ]
    later = slack_client.conversations_replies(channel=INTAKE_CHANNEL, ts=card, oldest=replies[0])
    history = slack_client.conversations_history(channel=INTAKE_CHANNEL)["messages"]

    assert [m["ts"] for page in pages for m in page["messages"]] == [card, *replies, from_coordinator]
    assert [m["ts"] for m in later["messages"]] == [card, replies[1], replies[2], from_coordinator]
    assert [m["ts"] for m in history] == [card]
    assert history[0]["reply_count"] == 4 and history[0]["latest_reply"] == from_coordinator
    assert history[0]["reply_users"] == ["U0MADOGUCHI", COORDINATOR]
    assert [m["text"] for m in slack.thread(INTAKE_CHANNEL, card)] == [
        "返信0",
        "返信1",
        "返信2",
        "承知しました",
    ]


def test_metadata_comes_back_whole_only_with_include_all_metadata(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    metadata = {"event_type": "madoguchi_consultation", "event_payload": {"consultation_id": "42"}}
    slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み", metadata=metadata)

    plain = slack_client.conversations_history(channel=INTAKE_CHANNEL)["messages"]
    whole = slack_client.conversations_history(channel=INTAKE_CHANNEL, include_all_metadata=True)["messages"]
    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み", metadata={"event_type": "x"})

    assert plain[0]["metadata"] == {"event_type": "madoguchi_consultation"}
    assert whole[0]["metadata"] == metadata
    assert refused.value.response["error"] == "invalid_metadata_format"


def test_a_card_is_updated_in_place_deleted_and_linked(slack: SlackStandIn, slack_client: WebClient) -> None:
    card = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み", blocks=[{"type": "divider"}])
    person = slack.post_as_user(INTAKE_CHANNEL, COORDINATOR, "確認します")

    updated = slack_client.chat_update(channel=INTAKE_CHANNEL, ts=card["ts"], text="承認しました")
    link = slack_client.chat_getPermalink(channel=INTAKE_CHANNEL, message_ts=card["ts"])
    errors = {}
    for name, call in {
        "unknown ts": lambda: slack_client.chat_update(channel=INTAKE_CHANNEL, ts="1.000001", text="x"),
        "unknown channel": lambda: slack_client.chat_update(channel="C0NOWHERE", ts=card["ts"], text="x"),
        "a person's message": lambda: slack_client.chat_update(channel=INTAKE_CHANNEL, ts=person, text="x"),
        "delete a person's": lambda: slack_client.chat_delete(channel=INTAKE_CHANNEL, ts=person),
    }.items():
        with pytest.raises(SlackApiError) as refused:
            call()
        errors[name] = refused.value.response["error"]
    slack_client.chat_delete(channel=INTAKE_CHANNEL, ts=card["ts"])

    assert updated["ts"] == card["ts"] and updated["message"]["blocks"] == [{"type": "divider"}]
    assert link["permalink"].endswith(f"/archives/{INTAKE_CHANNEL}/p{card['ts'].replace('.', '')}")
    assert errors == {
        "unknown ts": "message_not_found",
        "unknown channel": "channel_not_found",
        "a person's message": "cant_update_message",
        "delete a person's": "cant_delete_message",
    }
    assert [m["text"] for m in slack.messages()] == ["確認します"]


def test_an_ephemeral_message_is_recorded_apart_from_the_channel(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    sent = slack_client.chat_postEphemeral(
        channel=INTAKE_CHANNEL, user=MANAGER, text="担当の方のみ操作できます"
    )
    with pytest.raises(SlackApiError) as refused:
        slack_client.chat_postEphemeral(channel=INTAKE_CHANNEL, user="U0STRANGER", text="x")

    assert [(e.user, e.text, e.message_ts) for e in slack.ephemerals()] == [
        (MANAGER, "担当の方のみ操作できます", sent["message_ts"])
    ]
    assert slack_client.conversations_history(channel=INTAKE_CHANNEL)["messages"] == []
    assert refused.value.response["error"] == "user_not_in_channel"


def test_a_trigger_id_opens_one_modal_once_and_not_after_it_expires(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    trigger = slack.issue_trigger_id(COORDINATOR)
    opened = slack_client.views_open(trigger_id=trigger, view=MODAL)["view"]
    pushed = slack_client.views_push(trigger_id=slack.issue_trigger_id(COORDINATOR), view=MODAL)["view"]
    errors = {}
    for name, trigger_id in {
        "again": trigger,
        "expired": slack.issue_trigger_id(COORDINATOR, ttl=0),
        "made up": "1.2.made-up",
    }.items():
        with pytest.raises(SlackApiError) as refused:
            slack_client.views_open(trigger_id=trigger_id, view=MODAL)
        errors[name] = refused.value.response["error"]

    assert errors == {
        "again": "exchanged_trigger_id",
        "expired": "expired_trigger_id",
        "made up": "invalid_trigger_id",
    }
    assert [v.id for v in slack.open_modals(COORDINATOR)] == [opened["id"], pushed["id"]]
    assert pushed["root_view_id"] == opened["id"] and pushed["previous_view_id"] == opened["id"]


def test_views_update_needs_the_current_hash_and_publish_sets_the_home_tab(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    opened = slack_client.views_open(trigger_id=slack.issue_trigger_id(COORDINATOR), view=MODAL)["view"]
    changed = {**MODAL, "blocks": [{"type": "divider"}]}

    slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=changed)
    with pytest.raises(SlackApiError) as stale:
        slack_client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    with pytest.raises(SlackApiError) as unknown:
        slack_client.views_update(view_id="V0NOWHERE", view=MODAL)
    slack_client.views_publish(user_id=COORDINATOR, view={"type": "home", "blocks": [{"type": "divider"}]})

    assert (stale.value.response["error"], unknown.value.response["error"]) == ("hash_conflict", "not_found")
    assert slack.open_modals(COORDINATOR)[0].view == changed
    home = slack.home(COORDINATOR)
    assert home is not None and home.view["blocks"] == [{"type": "divider"}]


def test_users_info_and_a_dm_opened_with_a_coordinator(slack: SlackStandIn, slack_client: WebClient) -> None:
    user = slack_client.users_info(user=COORDINATOR)["user"]
    dm = slack_client.conversations_open(users=COORDINATOR)["channel"]["id"]
    again = slack_client.conversations_open(users=[COORDINATOR])
    slack_client.chat_postMessage(channel=dm, text="本日のご予定です")
    with pytest.raises(SlackApiError) as unknown:
        slack_client.users_info(user="U0STRANGER")

    assert (user["real_name"], user["tz"]) == (COORDINATORS[COORDINATOR], "Asia/Tokyo")
    assert dm.startswith("D") and again["channel"]["id"] == dm and again["already_open"] is True
    assert [m["text"] for m in slack.messages(dm)] == ["本日のご予定です"]
    assert unknown.value.response["error"] == "user_not_found"


def test_files_upload_v2_delivers_the_bytes_title_and_channel(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    report = "月,件数\n4,12\n".encode()

    shared = slack_client.files_upload_v2(
        channel=INTAKE_CHANNEL,
        content=report,
        filename="report-2026-04.csv",
        title="4月の月次報告",
        initial_comment="4月の月次報告です",
    )

    [upload] = slack.files()
    assert (upload.data, upload.title, upload.channel, upload.filename) == (
        report,
        "4月の月次報告",
        INTAKE_CHANNEL,
        "report-2026-04.csv",
    )
    assert shared["file"]["id"] == upload.id
    [message] = slack.messages()
    assert message["text"] == "4月の月次報告です" and message["files"][0]["id"] == upload.id


def test_a_bearer_token_is_required_and_must_be_one_slack_knows(slack: SlackStandIn) -> None:
    errors = {}
    for token in (None, "xoxb-not-ours"):
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=token, base_url=slack.api_url).chat_postMessage(channel=INTAKE_CHANNEL, text="x")
        errors[token] = refused.value.response["error"]
    slack.tokens = {"xoxb-rotated"}
    with pytest.raises(SlackApiError) as revoked:
        WebClient(token=BOT_TOKEN, base_url=slack.api_url).auth_test()

    assert errors == {None: "not_authed", "xoxb-not-ours": "invalid_auth"}
    assert revoked.value.response["error"] == "invalid_auth"
    assert WebClient(token="xoxb-rotated", base_url=slack.api_url).auth_test()["user_id"] == "U0MADOGUCHI"
    assert slack.messages() == [] and [c.token for c in slack.calls("chat.postMessage")] == [
        None,
        "xoxb-not-ours",
    ]


def test_429_with_retry_after_is_waited_out_by_slack_sdks_rate_limit_handler(slack: SlackStandIn) -> None:
    slack.rate_limit(times=1, method="chat.postMessage", retry_after=1)
    client = WebClient(
        token=BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )

    client.auth_test()  # another method is not limited
    client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")

    limited, accepted = slack.calls("chat.postMessage")
    assert (limited.status, limited.error, accepted.status) == (429, "ratelimited", 200)
    assert accepted.at - limited.at >= 1.0
    assert [m["text"] for m in slack.messages()] == ["申込み"]


def test_without_a_retry_handler_429_reaches_the_caller_with_retry_after(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    slack.rate_limit(times=1, retry_after=30)

    with pytest.raises(SlackApiError) as limited:
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")

    assert limited.value.response.status_code == 429
    assert limited.value.response.headers["Retry-After"] == "30"
    assert slack.messages() == []


def test_posts_to_one_channel_are_paced_to_one_a_second(slack: SlackStandIn, slack_client: WebClient) -> None:
    slack.pace_posts(1.0)
    dm = slack_client.conversations_open(users=COORDINATOR)["channel"]["id"]

    slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="一件目")
    with pytest.raises(SlackApiError) as limited:
        slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="二件目")
    slack_client.chat_postMessage(channel=dm, text="別のチャンネル")

    assert limited.value.response.status_code == 429
    assert [m["text"] for m in slack.messages()] == ["一件目"]


def test_5xx_and_an_outage_fail_calls_and_a_server_error_handler_retries(slack: SlackStandIn) -> None:
    client = WebClient(token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    retrying = WebClient(
        token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[ServerErrorRetryHandler(1, QUICK)]
    )
    slack.fail(500, times=1, method="chat.postMessage")
    with pytest.raises(SlackApiError) as failed:
        client.chat_postMessage(channel=INTAKE_CHANNEL, text="一件目")
    slack.fail(503, times=1)
    retrying.chat_postMessage(channel=INTAKE_CHANNEL, text="二件目")
    slack.begin_outage()
    with pytest.raises(SlackApiError) as down:
        client.auth_test()
    slack.end_outage()

    assert failed.value.response.status_code == 500 and down.value.response.status_code == 503
    assert [c.status for c in slack.calls()] == [500, 503, 200, 503]
    assert [m["text"] for m in slack.messages()] == ["二件目"]


def test_a_post_accepted_before_the_connection_dropped_is_posted_again_by_a_retry(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    """slack_sdk retries a dropped connection once by default: Slack has no idempotency key."""
    client = WebClient(
        token=BOT_TOKEN, base_url=slack.api_url, retry_handlers=[ConnectionErrorRetryHandler(1, QUICK)]
    )
    slack.drop(times=1, method="chat.postMessage")
    client.chat_postMessage(channel=INTAKE_CHANNEL, text="一件目")
    slack.drop(times=1, method="chat.postMessage", accept_first=True)
    client.chat_postMessage(channel=INTAKE_CHANNEL, text="二件目")

    assert [c.answer is None for c in slack.calls("chat.postMessage")] == [True, False, True, False]
    assert [m["text"] for m in slack.messages()] == ["一件目", "二件目", "二件目"]


def test_a_slow_slack_delays_the_method_it_is_told_of(slack: SlackStandIn, slack_client: WebClient) -> None:
    slack.delay(0.3, method="chat.postMessage")
    # slack_sdk types its timeout as int but hands it to urllib, which takes a float.
    impatient = WebClient(token=BOT_TOKEN, base_url=slack.api_url, timeout=0.1, retry_handlers=[])  # type: ignore[arg-type]

    slack_client.auth_test()
    slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="遅れて届きます")
    with pytest.raises(TimeoutError):
        impatient.chat_postMessage(channel=INTAKE_CHANNEL, text="待ちきれません")

    auth, posted = slack.calls()[:2]
    assert posted.at - auth.at >= 0.3
    assert [m["text"] for m in slack.messages()][0] == "遅れて届きます"


def test_the_async_client_posts_and_reads_a_thread(slack: SlackStandIn) -> None:
    async def post_and_read() -> list[str]:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=slack.api_url)
        card = await client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")
        await client.chat_postMessage(channel=INTAKE_CHANNEL, text="返信", thread_ts=card["ts"])
        thread = await client.conversations_replies(channel=INTAKE_CHANNEL, ts=card["ts"])
        return [m["text"] for m in thread["messages"]]

    assert asyncio.run(post_and_read()) == ["申込み", "返信"]
    assert [c.method for c in slack.calls()] == [
        "chat.postMessage",
        "chat.postMessage",
        "conversations.replies",
    ]


def test_a_channel_the_app_was_not_invited_to_is_not_in_channel(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    slack.add_channel("C0ELSEWHERE", "general", member=False)

    errors = []
    for call in (
        lambda: slack_client.chat_postMessage(channel="C0ELSEWHERE", text="申込み"),
        lambda: slack_client.conversations_history(channel="C0ELSEWHERE"),
    ):
        with pytest.raises(SlackApiError) as refused:
            call()
        errors.append(refused.value.response["error"])

    assert errors == ["not_in_channel", "not_in_channel"]
    assert slack.messages("C0ELSEWHERE") == []


def test_a_response_url_takes_five_answers_and_acts_on_the_original(
    slack: SlackStandIn, slack_client: WebClient
) -> None:
    card = slack_client.chat_postMessage(channel=INTAKE_CHANNEL, text="申込み")["ts"]
    url = slack.issue_response_url(INTAKE_CHANNEL, COORDINATOR, message_ts=card)
    webhook = WebhookClient(url)

    refused = webhook.send(
        text="申込み", blocks=[{"type": "header", "text": {"type": "plain_text", "text": "長" * 151}}]
    )
    answers = [webhook.send(text=f"確認{i}") for i in range(3)]
    replaced = webhook.send(text="承認しました", replace_original=True)
    in_channel = webhook.send(text="ご案内", response_type="in_channel")
    spent = webhook.send(text="六回目")

    assert (refused.status_code, json.loads(refused.body)["error"]) == (400, "invalid_blocks")
    assert [a.status_code for a in [*answers, replaced, in_channel]] == [200] * 5
    assert (spent.status_code, json.loads(spent.body)["error"]) == (404, "used_url")
    assert [e.text for e in slack.ephemerals(COORDINATOR)] == ["確認0", "確認1", "確認2"]
    assert [m["text"] for m in slack.messages()] == ["承認しました", "ご案内"]
    assert [b["text"] for b in slack.responses(url)] == ["確認0", "確認1", "確認2", "承認しました", "ご案内"]
