"""The flows the engine runs, by the name a conversation keeps (`Conversation.flow`).

- intake: from 「相談したい」 to a stored consultation (bot/intake.py); its ending stores it.
- bookings: 予約確認 (bot/bookings_flow.py); entered from anywhere, it keeps the intake's place.
- survey: the satisfaction survey's comment (bot/survey_flow.py); entered by a score button of the pushed
  survey (FLOWS_BY_POSTBACK), it keeps the intake's place too.
Every flow also has the shared confirmations (bot/commands.py) among its steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from bot import bookings_flow, survey_flow, texts
from bot.commands import CONFIRMATION_STEPS
from bot.flow import Flow
from bot.intake import FLOW as INTAKE_NAME
from bot.intake import STEPS as INTAKE_STEPS
from bot.intake import Step
from bot.messages import OutMessage
from bot.postback import PROPOSAL
from bot.steps import Ctx, StepSpec
from storage.consultations import has_consent


class _IntakeSteps(Mapping[str, StepSpec]):
    """The intake's steps in order, then the shared confirmations: read live, not copied, since the
    intake's steps follow the field registry (a test may add a question)."""

    def __getitem__(self, step: str) -> StepSpec:
        return CONFIRMATION_STEPS[step] if step in CONFIRMATION_STEPS else INTAKE_STEPS[step]

    def __iter__(self) -> Iterator[str]:
        yield from INTAKE_STEPS
        yield from CONFIRMATION_STEPS

    def __len__(self) -> int:
        return len(INTAKE_STEPS) + len(CONFIRMATION_STEPS)


def _begin_intake(ctx: Ctx) -> str:
    """The notice first, unless the owner accepted this version of it already: then the first question."""
    assert ctx.slots is not None
    if has_consent(
        session=ctx.slots.session,
        contact_id=ctx.slots.contact_id,
        notice_version=ctx.desk.privacy_notice.version,
    ):
        ctx.flags["consented"] = ctx.desk.privacy_notice.version
        return INTAKE.next_step(ctx, Step.CONSENT)
    return Step.CONSENT


INTAKE = Flow(
    name=INTAKE_NAME,
    steps=_IntakeSteps(),
    first=Step.CONSENT,
    last=Step.SUMMARY,
    entry_command="start",
    entry_words=("相談", "申し込", "申込", "予約"),  # inside any message: 「相談したいです」
    ending="submit",
    resumable=True,
    no_resume_at=(Step.CONSENT,),
    back_skips=(Step.EDIT, Step.CONSENT),
    begin=_begin_intake,
    welcome_back=texts.BACK_TO_INTAKE,
)

BOOKINGS = Flow(
    name=bookings_flow.FLOW,
    steps=bookings_flow.STEPS,
    entry_command="bookings",
    first=bookings_flow.LIST,
    last=bookings_flow.LIST,
    keeps_place=True,
    begin=bookings_flow.begin,
    on_command=bookings_flow.on_command,
    closing=texts.BOOKINGS_CLOSED,
)

SURVEY = Flow(
    name=survey_flow.FLOW,
    steps=survey_flow.STEPS,
    first=survey_flow.COMMENT,
    last=survey_flow.COMMENT,
    keeps_place=True,
    begin=survey_flow.begin,
    on_command=survey_flow.on_command,
)

# In the order an idle owner's message is tried against their entry words (予約確認 holds 予約).
FLOWS: dict[str, Flow] = {flow.name: flow for flow in (BOOKINGS, INTAKE, SURVEY)}
# Flows entered by a button of a message the desk pushed (it belongs to no conversation): by its token.
FLOWS_BY_POSTBACK: dict[str, Flow] = {survey_flow.POSTBACK_TOKEN: SURVEY}


# Buttons sent outside any conversation (a coordinator's proposal of other times, pushed from Slack), by their
# postback step: answered wherever the owner is, their conversation left as it was.
OUT_OF_FLOW: dict[str, Callable[..., list[OutMessage]]] = {PROPOSAL: bookings_flow.answer_proposal}


def get_flow(name: str | None) -> Flow | None:
    """The flow of that name, or None (a conversation of a flow this version no longer has)."""
    return FLOWS.get(name or "")
