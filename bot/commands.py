"""The words that work anywhere in a flow (やめる, 戻る, 最初から, ヘルプ, the menu's items), and the
confirmations they ask (中止しますか？, 続きからにしますか？) as a step kind every flow shares.

A command answers with an ordinary step result (bot/steps.py), which the engine carries out as it does a
step's; a flow says which commands it honours (Flow.commands in bot/flows.py).
"""

from __future__ import annotations

from collections.abc import Callable

from bot import texts
from bot.messages import Inbound, OutMessage
from bot.normalize import normalize
from bot.steps import Answer, Back, Ctx, Enter, Forget, Goto, Restart, Result, Return, Stay, StepSpec
from config import DeskConfig

COMMANDS = {
    "cancel": (
        "やめる", "キャンセル", "中止", "ちゅうし", "やめます", "中止する",
        "やめたい", "やめて", "やめておく", "やめておきます", "やめとく", "やめときます", "辞める", "止める",
        "止めます", "止めたい", "申し込みをやめる", "申込をやめる", "申し込みをやめたい",
        "キャンセルする", "キャンセルします", "キャンセルしたい", "キャンセルで", "キャンセルお願いします",
        "中止します", "中止したい", "中止で", "取り消し", "取消", "とりけし", "取り消す", "取り消したい",
    ),
    "back": (
        "戻る", "もどる", "戻って", "一つ戻る", "戻りたい", "戻ります", "戻してください", "ひとつ戻る",
        "1つ戻る", "前の質問", "前の質問に戻る",
    ),
    "restart": (
        "最初から", "さいしょから", "はじめから", "最初からやり直す", "初めから", "始めから", "最初からやり直したい",
        "最初からお願いします", "やり直す", "やりなおす", "やり直したい", "やり直し", "やりなおし", "入力し直す",
    ),
    "help": ("ヘルプ", "help", "へるぷ", "使い方", "つかいかた", "使いかた", "操作方法"),
    # What the menu under the chat sends (texts.MENU_ITEMS), answered wherever the owner is
    "inquiry": (texts.MENU_INQUIRY, "問い合わせ", "お問合せ", "問合せ", "お問い合せ", "連絡先", "窓口の連絡先"),
    "bookings": (texts.MENU_BOOKINGS, "予約の確認", "予約を確認", "予約を確認したい", "予約状況"),
    "start": (texts.START_BUTTON, texts.MENU_CONSULT),
}  # fmt: skip
_COMMAND_BY_TEXT = {normalize(word): name for name, words in COMMANDS.items() for word in words}

# The confirmations, as steps: their names (the postback step of their buttons) and yes/no labels.
CONFIRM_CANCEL = "cancel"
CONFIRM_RESUME = "resume"
CONFIRMATIONS = {
    CONFIRM_CANCEL: (texts.CANCEL_YES, texts.CANCEL_NO),
    CONFIRM_RESUME: (texts.RESUME_YES, texts.RESUME_NO),
}


def command_of(inbound: Inbound) -> str | None:
    """The command a typed message is (as a whole message), or None."""
    if inbound.kind != "text":
        return None
    return _COMMAND_BY_TEXT.get(normalize(inbound.text))


def menu_answer(config: DeskConfig, command: str) -> str:
    """What the menu's お問い合わせ says (and, inside a flow, 相談する)."""
    desk = config.desk
    if command == "inquiry":
        lines = [texts.INQUIRY.format(desk=desk.name, phone=desk.phone, hours=desk.hours)]
        return "\n".join(lines + ([texts.INQUIRY_EMAIL.format(email=desk.email)] if desk.email else []))
    return texts.INTAKE_UNDER_WAY


def help_text(ctx: Ctx) -> str:
    return texts.HELP.format(phone=ctx.desk.desk.phone, hours=ctx.desk.desk.hours)


def _said(reply: Answer, yes: tuple[str, ...], no: tuple[str, ...]) -> str | None:
    if reply.value in ("yes", "no"):
        return reply.value
    said = normalize(reply.text)
    if said and said in {normalize(w) for w in yes}:
        return "yes"
    if said and said in {normalize(w) for w in no}:
        return "no"
    return None


def confirm_step(
    kind: str,
    question: str,
    yes_words: tuple[str, ...],
    no_words: tuple[str, ...],
    on_yes: Callable[[Ctx], Result],
    on_no: Callable[[Ctx], Result],
    on_other: Callable[[Ctx], Result] | None = None,
) -> StepSpec:
    """A yes/no confirmation asked over a question (which it returns to); it takes every word as its answer."""
    yes_label, no_label = CONFIRMATIONS[kind]

    def ask(ctx: Ctx, page: int = 0) -> list[OutMessage]:
        return [OutMessage(question, (ctx.button(yes_label, "yes"), ctx.button(no_label, "no")))]

    def answer(ctx: Ctx, reply: Answer) -> Result:
        said = _said(reply, (yes_label, *yes_words), (no_label, *no_words))
        if said == "yes":
            return on_yes(ctx)
        if said == "no" or on_other is None:
            return on_no(ctx)
        return on_other(ctx)

    return StepSpec(ask, answer, takes_commands=False)


def _choose_again(ctx: Ctx) -> Result:
    yes, no = CONFIRMATIONS[CONFIRM_RESUME]
    return Stay([OutMessage(texts.CHOOSE_FROM_BUTTONS, (ctx.button(yes, "yes"), ctx.button(no, "no")))])


# The confirmations every flow that has commands shares (merged into its steps by bot/flows.py).
CONFIRMATION_STEPS: dict[str, StepSpec] = {
    CONFIRM_CANCEL: confirm_step(
        CONFIRM_CANCEL,
        texts.CONFIRM_CANCEL,
        ("はい", *COMMANDS["cancel"]),
        ("いいえ", "続ける"),
        on_yes=lambda ctx: Forget(texts.CANCELLED),
        on_no=lambda ctx: Return([OutMessage(texts.NOT_CANCELLED)]),  # いいえ, or anything else: it goes on
    ),
    CONFIRM_RESUME: confirm_step(
        CONFIRM_RESUME,
        texts.RESUME,
        ("はい", "続きから"),
        COMMANDS["restart"],
        on_yes=lambda ctx: Return(),
        on_no=lambda ctx: Restart(),
        on_other=_choose_again,
    ),
}


def run_command(command: str, ctx: Ctx, ask: list[OutMessage]) -> Result:
    """What a command does inside a flow, as a step result; `ask` is the current question (asked again)."""
    match command:
        case "help":
            return Stay([OutMessage(help_text(ctx)), *ask])
        case "inquiry" | "start":
            return Stay([OutMessage(menu_answer(ctx.desk, command)), *ask])
        case "bookings":
            return Enter("bookings")
        case "cancel":
            return Goto(CONFIRM_CANCEL)  # a confirmation, asked over the question
        case "restart":
            return Restart([OutMessage(texts.RESTARTED)])
        case "back":
            return Back()
    return Stay(ask)  # a menu button this version does not know: the question again
