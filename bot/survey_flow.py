"""満足度アンケート: the owner taps a score (1 to 5) on the survey the desk pushed after the consultation, then
may write a comment or skip it.

    (a score button of the pushed survey, from anywhere) ─► the score stored ─► survey_comment
                                                                                ├─ typed text ─► stored ─► done
                                                                                │  (12 h after the score: not taken, done)
                                                                                └─ スキップ ─► done
    The score buttons belong to no conversation (token `svy`, the survey's id, the score): the engine
    enters this flow when one is tapped, parking the intake if the owner is in the middle of it. A score
    tapped again, or for a survey answered before, changes nothing and says so.
"""

from __future__ import annotations

from bot import follow_up_texts as t
from bot.messages import Button, OutMessage
from bot.normalize import clean_text, normalize
from bot.postback import encode
from bot.steps import Answer, Ctx, Finish, Result, Stay, StepSpec
from bot.surveys import Answered
from bot.validation import check_text

FLOW = "survey"
COMMENT = "survey_comment"
POSTBACK_TOKEN = "svy"  # the score buttons of a pushed survey: `svy|<survey id>|<score>`
_SKIP_WORDS = frozenset(normalize(word) for word in t.SKIP_WORDS)


def score_buttons(survey_id: int) -> tuple[Button, ...]:
    """The five score buttons of a survey, best first."""
    return tuple(
        Button(label, encode(POSTBACK_TOKEN, str(survey_id), str(score)), display=label)
        for score, label in t.SCORE_LABELS.items()
    )


def begin(ctx: Ctx) -> str | Result:
    """Stores the tapped score and asks for a comment; a stale or foreign tap is answered, nothing changes."""
    assert ctx.surveys is not None
    entry = ctx.flags.pop("entry", None) or {}
    survey_id, score = str(entry.get("step", "")), str(entry.get("value", ""))
    if not (survey_id.isdigit() and score.isdigit()):
        return Finish([OutMessage(t.NOT_YOURS)])
    answered = ctx.surveys.answer_score(int(survey_id), int(score))
    if answered is Answered.ALREADY:
        return Finish([OutMessage(t.ALREADY_ANSWERED)])
    if answered is Answered.NOT_YOURS:
        return Finish([OutMessage(t.NOT_YOURS)])
    ctx.flags["survey"], ctx.flags["score"] = int(survey_id), int(score)
    return COMMENT


def _ask_comment(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    return [OutMessage(t.ASK_COMMENT.format(score=ctx.flags.get("score")), (ctx.button(t.SKIP, "skip"),))]


def _settle(ctx: Ctx, comment: str | None) -> Result:
    assert ctx.surveys is not None
    answered = ctx.surveys.answer_comment(int(ctx.flags.get("survey") or 0), comment)
    if answered is not Answered.RECORDED:
        return Finish([OutMessage(t.ALREADY_ANSWERED)])
    return Finish([OutMessage(t.THANKS_COMMENT if comment is not None else t.THANKS)])


def _answer_comment(ctx: Ctx, reply: Answer) -> Result:
    assert ctx.surveys is not None
    if reply.typed and not ctx.surveys.takes_comment(int(ctx.flags.get("survey") or 0)):
        # Written long after the score: not a comment on it (the owner is told, and the survey closes).
        ctx.surveys.answer_comment(int(ctx.flags.get("survey") or 0), None)
        return Finish([OutMessage(t.COMMENT_CLOSED)])
    if reply.value == "skip" or (reply.typed and normalize(reply.text) in _SKIP_WORDS):
        return _settle(ctx, None)
    if reply.value is not None:
        return Stay([OutMessage(t.ASK_COMMENT.format(score=ctx.flags.get("score")))])
    error = check_text(reply.text, t.COMMENT_LIMIT)
    if error:
        return Stay([OutMessage(error), *_ask_comment(ctx)])
    return _settle(ctx, clean_text(reply.text))


def on_command(command: str, ctx: Ctx, ask: list[OutMessage]) -> Result | None:
    """ヘルプ and お問い合わせ as everywhere; any other command (やめる, 予約確認, 相談する…) skips the comment
    and leaves the survey (back to the intake, where the owner was, if it was parked)."""
    if command in ("help", "inquiry"):
        return None
    return _settle(ctx, None)


STEPS: dict[str, StepSpec] = {
    COMMENT: StepSpec(_ask_comment, _answer_comment, answered_by="either"),
}
