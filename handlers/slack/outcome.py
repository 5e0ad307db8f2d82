"""対応記録を入力 from the card: the modal opens at once (the trigger_id lasts 3 s) with the outcome's fields;
on submit the fields are checked (errors shown under them, before the ack), and the record is stored
through bot.outcomes (the booking done through the life cycle, the owner asked about referrals on LINE,
the card refreshed through the outbox). Only the assigned coordinator or an approver may record; anyone
else, and a second submission, changes nothing and gets an ephemeral note.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import anyio
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import outcomes
from bot.outcome_texts import RESULT_LABELS
from config import DeskConfig
from handlers.services import Services
from handlers.slack import outcome_texts as texts
from handlers.slack.actions import Click, clicked_booking, read_click, tell
from handlers.slack.outcome_card import OUTCOME

log = logging.getLogger(__name__)

OUTCOME_VIEW = "card_outcome_view"
# (block_id, action_id) of each field; the block ids are the names bot.outcomes.form_problems uses
METHOD = ("method", "method_choice")
MINUTES = ("minutes", "minutes_number")
SUMMARY = ("summary", "summary_text")
RESULT = ("result", "result_choice")
PROGRAMMES = ("programmes", "programmes_choice")
NEXT_ACTION = ("next_action", "next_action_text")
NEXT_DATE = ("next_date", "next_date_pick")
ONSITE = ("onsite", "onsite_choice")
PARTNERS = ("partners", "partners_choice")
VENDORS = ("vendors", "vendors_text")
VENDORS_TEXT_MAX = 1100


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def _input(
    field: tuple[str, str], label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": field[0],
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": field[1]},
    }


def _select(options: list[dict[str, Any]], *, multi: bool = False) -> dict[str, Any]:
    return {
        "type": "multi_static_select" if multi else "static_select",
        "placeholder": {"type": "plain_text", "text": texts.PLACEHOLDER_PICK},
        "options": options,
    }


def outcome_modal(desk: DeskConfig, click: Click) -> dict[str, Any]:
    """The modal of the outcome's fields; the card's ids travel in private_metadata, with the channel."""
    methods = [_option(m.name, m.id) for m in desk.methods]
    results = [_option(label, code) for code, label in RESULT_LABELS.items()]
    onsite = [_option(texts.ONSITE_NO, "no"), _option(texts.ONSITE_YES, "yes")]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": texts.INTRO}},
        _input(METHOD, texts.METHOD_LABEL, _select(methods)),
        _input(
            MINUTES,
            texts.MINUTES_LABEL,
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(outcomes.MINUTES_MAX),
            },
        ),
        _input(
            SUMMARY,
            texts.SUMMARY_LABEL,
            {"type": "plain_text_input", "multiline": True, "max_length": outcomes.SUMMARY_MAX},
        ),
        _input(RESULT, texts.RESULT_LABEL, _select(results)),
    ]
    programmes = [_option(p.name, p.id) for p in desk.outcomes.programmes]
    if programmes:
        blocks.append(
            _input(PROGRAMMES, texts.PROGRAMMES_LABEL, _select(programmes, multi=True), optional=True)
        )
    blocks += [
        _input(
            NEXT_ACTION,
            texts.NEXT_ACTION_LABEL,
            {"type": "plain_text_input", "max_length": outcomes.NEXT_ACTION_MAX},
            optional=True,
        ),
        _input(NEXT_DATE, texts.NEXT_DATE_LABEL, {"type": "datepicker"}, optional=True),
        _input(
            ONSITE,
            texts.ONSITE_LABEL,
            {"type": "radio_buttons", "options": onsite, "initial_option": onsite[0]},
        ),
    ]
    partners = [_option(p.name, p.id) for p in desk.outcomes.partners]
    if partners:
        blocks.append(_input(PARTNERS, texts.PARTNERS_LABEL, _select(partners, multi=True), optional=True))
    blocks.append(
        _input(
            VENDORS,
            texts.VENDORS_LABEL,
            {"type": "plain_text_input", "multiline": True, "max_length": VENDORS_TEXT_MAX},
            optional=True,
        )
    )
    return {
        "type": "modal",
        "callback_id": OUTCOME_VIEW,
        "private_metadata": f"{click.value}|{click.channel or ''}",
        "title": {"type": "plain_text", "text": texts.TITLE},
        "submit": {"type": "plain_text", "text": texts.SUBMIT},
        "close": {"type": "plain_text", "text": texts.CLOSE},
        "blocks": blocks,
    }


def _state(values: dict[str, Any], field: tuple[str, str]) -> dict[str, Any]:
    return (values.get(field[0]) or {}).get(field[1]) or {}


def _chosen(values: dict[str, Any], field: tuple[str, str]) -> str:
    return str((_state(values, field).get("selected_option") or {}).get("value") or "")


def _chosen_many(values: dict[str, Any], field: tuple[str, str]) -> tuple[str, ...]:
    options = _state(values, field).get("selected_options") or []
    return tuple(dict.fromkeys(str(o.get("value") or "") for o in options if isinstance(o, dict)))


def _typed(values: dict[str, Any], field: tuple[str, str]) -> str:
    return str(_state(values, field).get("value") or "")


def read_outcome(body: dict[str, Any]) -> tuple[Click, outcomes.OutcomeForm | None]:
    """The click the modal was opened from, and the form (None when the minutes are not a whole number)."""
    view = body.get("view") or {}
    value, _, channel = str(view.get("private_metadata") or "").partition("|")
    user = str((body.get("user") or {}).get("id") or "")
    click = Click(user=user, channel=channel or None, value=value)
    values = (view.get("state") or {}).get("values") or {}
    minutes = _typed(values, MINUTES).strip()
    picked = str(_state(values, NEXT_DATE).get("selected_date") or "")
    try:
        next_on = date.fromisoformat(picked) if picked else None
    except ValueError:
        next_on = None
    if not minutes.isdigit():
        return click, None
    return click, outcomes.OutcomeForm(
        method=_chosen(values, METHOD),
        minutes=int(minutes),
        summary=_typed(values, SUMMARY),
        result=_chosen(values, RESULT),
        programmes=_chosen_many(values, PROGRAMMES),
        next_action=_typed(values, NEXT_ACTION),
        next_action_on=next_on,
        onsite=_chosen(values, ONSITE) == "yes",
        partners=_chosen_many(values, PARTNERS),
        vendors=outcomes.split_vendors(_typed(values, VENDORS)),
    )


def field_errors(desk: DeskConfig, form: outcomes.OutcomeForm | None) -> dict[str, str]:
    """The modal's errors, by block id (empty: it may be stored)."""
    if form is None:
        return {MINUTES[0]: texts.PROBLEMS["minutes"]}
    return {name: texts.PROBLEMS[name] for name in outcomes.form_problems(desk, form)}


NOTES = {
    outcomes.Recorded.ALREADY: texts.ALREADY,
    outcomes.Recorded.NOT_YET: texts.NOT_YET,
    outcomes.Recorded.NOT_CONFIRMED: texts.NOT_CONFIRMED,
}


def record(services: Services, click: Click, form: outcomes.OutcomeForm) -> str:
    """Stores the outcome for the booking of the card; the note for the one who submitted it."""
    with services.db.session() as session:
        booking = clicked_booking(session, services, click)
        if isinstance(booking, str):
            return booking
        booking_id = booking.id
        result = outcomes.record_outcome(
            session=session,
            desk=services.desk,
            outbound=services.outbound,
            booking_id=booking.id,
            form=form,
            actor=click.user,
            now=services.clock.now(),
        )
    if result.status is not outcomes.Recorded.RECORDED:
        return NOTES.get(result.status, texts.NOT_CONFIRMED)
    log.info("booking %s: outcome recorded from Slack", booking_id)
    if form.partners or form.vendors:
        return texts.RECORDED + "\n" + (texts.ASKED_OWNER if result.asked_owner else texts.NOT_ASKED)
    return texts.RECORDED


def register(app: AsyncApp, services: Services) -> list[str]:
    """Registers 対応記録を入力 and its modal; returns their ids."""

    @app.action(OUTCOME)
    async def on_outcome(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        # The modal first: its trigger_id lasts 3 s; who may record is checked on submit
        modal = outcome_modal(services.desk, read_click(body))
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view(OUTCOME_VIEW)
    async def on_outcome_submitted(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        click, form = read_outcome(body)
        errors = field_errors(services.desk, form)
        if errors or form is None:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        await tell(client, click, await anyio.to_thread.run_sync(record, services, click, form))

    return [OUTCOME, OUTCOME_VIEW]
