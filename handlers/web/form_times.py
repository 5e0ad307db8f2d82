"""The web form's second page: the coordinators' free times for the answers, as the chat's slot step offers
them (the same SlotBook), and the time chosen found again and held when the request is sent.

The page sends back only the start of the time chosen, so nothing a browser sends is held as it stands: the
slot is looked up again among the free ones, and held only if the rules and the calendars still offer it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot import texts
from bot.slots import SlotBook, parse_picker_value, picker_value
from config import DeskConfig
from handlers.services import Services
from scheduling import Proposal, Slot, label_day, label_slot_range
from storage.clock import JST

OFFERED_MAX = 11  # as many times as the chat offers (LINE's quick replies leave room for 11)
LATER = "later"  # the choice 日程は相談して決めたい

# Every sentence of the times page and of what the thanks page says of the time, in one place for review.
TIMES_TEXTS = {
    "slot": "日時を一つお選びください。日程を相談して決める場合は「{later}」をお選びください。",
    "around": "日付を読み取れませんでした。カレンダーからお選びください。",
    "lead": "ご都合のよい日時をお選びください（{minutes}分ほど）。",
    "around_lead": "{day}の前後の空き日時です。",
    "none_around": "{day}の前後に空きが見つかりませんでした。ほかの日をお探しいただくか、「{later}」をお選びください。",
    "held_while": "お選びの日時は、担当のコーディネーターからご連絡するまで仮予約としてお取りしておきます。",
    "no_coordinator": (
        "申し訳ありません。この分野・所在地では、ご希望の方法でお受けできるコーディネーターがおりません。\n"
        "相談方法を変えるか、「{later}」をお選びください。"
    ),
    "next_note": texts.FORM_METHOD_HELP,
    "held": "ご希望の日時：{slot}（仮予約）",
    "held_note": "日時は、担当のコーディネーターからのご連絡で確定します。",
    "later_note": "日程は、担当のコーディネーターがご相談のうえ決めます。",
}


@dataclass(frozen=True)
class TimesView:
    """What the times page shows: why (or which) times, the choices, and the ways on."""

    lead: str
    held_while: str  # how long a chosen time is kept, when there are times
    times: list[tuple[str, str]]  # (value sent back, label)
    later: str
    later_checked: bool
    online: str  # the label of the switch to an online meeting, or ""
    search: dict[str, str] | None  # the date field's min, max and value, when searching helps


def propose_times(svc: Services, answers: dict[str, Any], around: datetime | None) -> Proposal:
    """The coordinators' free times for the answers, read as the chat's slot step reads them."""
    with svc.db.session() as session:
        # Proposing needs no contact (holding does): the form makes one only when the request is sent.
        book = SlotBook(session, svc.desk, svc.engine.calendars, svc.clock, contact_id=0)
        return book.propose(answers, around)


def times_view(
    desk: DeskConfig, proposal: Proposal, answers: dict[str, Any], around: datetime | None
) -> TimesView:
    """The page for a proposal, its reasons in the chat's slot step's order."""
    later = texts.DECIDE_LATER
    offered = proposal.slots[:OFFERED_MAX] if proposal.status == "ok" else ()
    method = answers["method"]
    if proposal.status == "online_only":
        lead = texts.ISLAND_ONLINE
    elif offered and around is not None:
        lead = TIMES_TEXTS["around_lead"].format(day=label_day(around.date()))
    elif offered and offered[0].whole_day:
        lead = texts.ASK_SLOT_WHOLE_DAY
    elif offered:
        lead = TIMES_TEXTS["lead"].format(minutes=desk.scheduling.rules.duration_minutes.get(method, 60))
    elif around is not None:
        lead = TIMES_TEXTS["none_around"].format(day=label_day(around.date()), later=later)
    elif proposal.alternative_method == "online":
        lead = texts.ISLAND_ONLINE
    elif proposal.status == "no_coordinator":
        lead = TIMES_TEXTS["no_coordinator"].format(later=later)
    elif proposal.status == "calendar_unavailable":
        lead = texts.CALENDAR_UNAVAILABLE
    else:
        lead = texts.NO_SLOTS
    online = method != "online" and (
        proposal.status in ("online_only", "no_coordinator")
        or (not offered and proposal.alternative_method == "online")
    )
    search: dict[str, str] | None = None
    if proposal.status in ("ok", "no_slots") and proposal.window_start and proposal.window_end:
        last_day = (proposal.window_end - timedelta(microseconds=1)).astimezone(JST).date()
        search = {
            "min": proposal.window_start.astimezone(JST).date().isoformat(),
            "max": last_day.isoformat(),
            "value": around.date().isoformat() if around else "",
        }
    return TimesView(
        lead=lead,
        held_while=TIMES_TEXTS["held_while"] if offered else "",
        times=[(picker_value(s.starts_at), label_slot_range(s)) for s in offered],
        later=later,
        later_checked=not offered,
        online=texts.SWITCH_TO_ONLINE if online else "",
        search=search,
    )


def parse_choice(value: str) -> datetime | None:
    """The start of the time chosen (None for 日程は相談して決めたい); ValueError when it is neither."""
    if value == LATER:
        return None
    chosen = parse_picker_value(value)
    if chosen is None:
        raise ValueError("no time chosen")
    return chosen


def parse_search_day(value: str) -> datetime | None:
    """The day picked in 「ほかの日から探す」 as its noon in Japan (so that day's times come first), or None."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        return None
    return datetime.combine(day, time(12), tzinfo=JST)


def find_free_slot(book: SlotBook, answers: dict[str, Any], starts_at: datetime) -> Slot | None:
    """The free slot starting at the chosen moment, found as the times page found it, or None."""
    proposal = book.propose(answers, around=starts_at)
    return next((s for s in proposal.slots if s.starts_at == starts_at), None)


def thanks_lines(slot: Slot | None, later: bool) -> tuple[str, list[str]]:
    """What the thanks page says of the time: the one held and its note, or that it will be agreed."""
    if slot is not None:
        return TIMES_TEXTS["held"].format(slot=label_slot_range(slot)), [TIMES_TEXTS["held_note"]]
    return "", [TIMES_TEXTS["later_note"]] if later else []
