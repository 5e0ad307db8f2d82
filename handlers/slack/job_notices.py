"""What the desk's jobs post in Slack (bot.digest, bot.quota, bot.monthly_summary, bot.parked_report),
rendered from the notice's ids and counts and what is stored when it is delivered (the monthly summary from
the month's report, built when it is delivered: handlers/slack/monthly_report.py).

The digest shows no more than the card does: the time, the method, the company (or 個人事業主) and the
reference; how to reach an owner stays behind the card's 連絡先を見る.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.bookings import booking_when
from bot.reminder_texts import date_ja
from bot.sending import Notice
from config import DeskConfig
from config.labels import choice_name
from handlers.slack.cards import HEADER_MAX, SECTION_MAX, TEXT_MAX, escape
from reporting.aggregate import Summary
from reporting.render import EMPTY_NOTE, shown, unit_label
from storage.bookings import Booking
from storage.clock import JST
from storage.models import Consultation

if TYPE_CHECKING:
    from handlers.slack.notices import SlackMessage

SOLE_TRADER = "個人事業主"
DIGEST_HEADER = "おはようございます。{day}のお知らせです"
DIGEST_TEXT = "本日のご相談 {appointments}件・お返事待ち {waiting}件・ご連絡が必要な方 {to_call}件"
TODAY = "*本日のご相談（{count}件）*"
WAITING = "*お返事待ちのご依頼（{count}件）*"
TO_CALL = "*お電話などでご連絡が必要な方（{count}件）*"
TO_CALL_NOTE = "LINEでお知らせが届いていません。連絡先は各相談カードの「連絡先を見る」から確認できます。"
NONE = "ありません"
MORE = "ほか{count}件"
REASONS = {
    "quota": "LINEの月間送信上限のため未送信",
    "unfollowed": "LINEがブロックされています",
    "not_delivered": "LINEで送信できませんでした",
}
QUOTA_TEXT = (
    "LINEの今月（{month}）の送信数が上限の{percent}%に達しました（{used}／{quota}通）。"
    "上限を超えると、ご相談者へのお知らせがLINEで届かなくなります。"
    "届かなかった方は、担当者の朝のお知らせに「ご連絡が必要な方」として載ります。"
)
PARKED_TEXT = (
    "送信できずに止まっているメッセージが新たに{count}件あります（{channels}）。"
    "原因を確かめたうえで `madoguchi outbox retry --all` で再送できます。"
)
CHANNELS = {"line": "LINE", "slack": "Slack", "mail": "メール"}
SUMMARY_HEADER = "{year}年{month}月のご相談のまとめ"
SUMMARY_TEXT = (
    "{year}年{month}月のまとめ：受付 {received}件、実施 {held}件、現地訪問 {onsite}／目標{target}件"
)
DASH = "—"
MONTHLY_SUMMARY = "monthly_summary"  # bot.monthly_summary.KIND: rendered from the report (monthly_report.py)
ATTACHED_NOTE = "県への報告書（Excel・PDF）はこのスレッドに添付します。"


def _message(text: str, blocks: list[dict[str, Any]]) -> SlackMessage:
    from handlers.slack.notices import SlackMessage  # (notices imports this module's renderers)

    return SlackMessage(text=text[:TEXT_MAX], blocks=blocks)


def _words(notice: Notice) -> SlackMessage | None:
    """A notice of the kind without the job's figures (written by hand, say): the words it carries."""
    return (
        _message(escape(notice.text), [_section(escape(notice.text)[:SECTION_MAX])]) if notice.text else None
    )


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _listed(title: str, items: list[str]) -> dict[str, Any]:
    """A section of a title and its items, cut to Block Kit's section limit with how many were left out."""
    lines = [title]
    for index, item in enumerate(items):
        more = MORE.format(count=len(items) - index)
        if sum(len(line) + 1 for line in lines) + len(item) + len(more) + 4 > SECTION_MAX:
            lines.append(more)
            break
        lines.append(f"• {item}")
    if not items:
        lines.append(NONE)
    return _section("\n".join(lines))


def _who(consultation: Consultation | None) -> str:
    if consultation is None:
        return DASH
    name = escape(consultation.company_name) if consultation.company_name else SOLE_TRADER
    return f"{name}（{consultation.reference}）"


def _booking_line(session: Session, desk: DeskConfig, booking_id: int) -> str | None:
    booking = session.get(Booking, booking_id)
    if booking is None:
        return None
    consultation = session.get(Consultation, booking.consultation_id) if booking.consultation_id else None
    method = choice_name(desk, "methods", booking.method) or booking.method
    return f"{booking_when(booking)}　{escape(method)}　{_who(consultation)}"


def render_digest(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage | None:
    if not notice.detail.get("day"):
        return _words(notice)
    detail = notice.detail
    day = date.fromisoformat(str(detail.get("day")))
    appointments = [
        line for i in detail.get("appointments") or [] if (line := _booking_line(session, desk, int(i)))
    ]
    waiting = [line for i in detail.get("waiting") or [] if (line := _booking_line(session, desk, int(i)))]
    to_call = [
        f"{_who(session.get(Consultation, int(cid)))}：{REASONS.get(str(reason), REASONS['not_delivered'])}"
        for cid, reason in detail.get("to_call") or []
    ]
    header = DIGEST_HEADER.format(day=date_ja(datetime.combine(day, time(12), tzinfo=JST)))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_MAX]}},
        _listed(TODAY.format(count=len(appointments)), appointments),
        _listed(WAITING.format(count=len(waiting)), waiting),
        _listed(TO_CALL.format(count=len(to_call)), to_call),
    ]
    if to_call:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": TO_CALL_NOTE}]})
    text = DIGEST_TEXT.format(appointments=len(appointments), waiting=len(waiting), to_call=len(to_call))
    return _message(text, blocks)


def render_quota_warning(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage | None:
    if not notice.detail.get("quota"):
        return _words(notice)
    detail = notice.detail
    text = QUOTA_TEXT.format(
        month=detail.get("month"),
        percent=round(float(detail.get("ratio") or 0) * 100),
        used=detail.get("used"),
        quota=detail.get("quota"),
    )
    return _message(text, [_section(text)])


def render_parked_report(session: Session, desk: DeskConfig, notice: Notice) -> SlackMessage | None:
    if not notice.detail.get("count"):
        return _words(notice)
    detail = notice.detail
    by_channel: Mapping[str, int] = detail.get("by_channel") or {}
    channels = "、".join(f"{CHANNELS.get(name, name)} {count}件" for name, count in by_channel.items())
    text = PARKED_TEXT.format(count=detail.get("count"), channels=channels)
    return _message(text, [_section(text)])


def _value(summary: Summary, section: str, label: str) -> str:
    found = summary.section(section)
    line = next((ln for ln in found.lines if ln.label == label), None) if found else None
    if line is None or line.values[0] is None:
        return DASH
    return f"{shown(line, line.values[0])}{unit_label(line)}"


def _counted(summary: Summary, section: str, *, skip: tuple[str, ...] = ()) -> list[str]:
    """The section's lines with a count in the month, largest first."""
    found = summary.section(section)
    lines = [ln for ln in (found.lines if found else ()) if ln.label not in skip and ln.values[0]]
    ordered = sorted(lines, key=lambda ln: -int(ln.values[0] or 0))
    return [f"{escape(ln.label)}：{shown(ln, ln.values[0])}{unit_label(ln)}" for ln in ordered]


def render_monthly_post(summary: Summary, *, attached: bool) -> SlackMessage:
    """The post: the month's figures as the report counts them, and where its files are."""
    month = summary.period.months[summary.period.main.months[0]]
    received = int(summary.value("consultations", "受付件数") or 0)
    held = int(summary.value("meetings", "面談実施件数") or 0)
    visits = int(summary.value("meetings", "うち企業訪問（現地）") or 0)
    target = int(summary.value("meetings", "企業訪問の目標") or 0)
    figures = [
        f"*受付件数*：{received}件",
        f"*実施した相談*：{held}件",
        f"*現地訪問*：{visits}件（目標 {target}件）",
        f"*満足度の平均*：{_value(summary, 'satisfaction', '平均')}",
        f"*初回対応までの時間（中央値）*：{_value(summary, 'response', '中央値')}",
    ]
    header = SUMMARY_HEADER.format(year=month.year, month=month.month)
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header[:HEADER_MAX]}},
        _section("\n".join(figures)),
    ]
    if summary.empty:
        blocks.append(_section(EMPTY_NOTE))
    blocks += [
        _listed("*状況別*", _counted(summary, "consultations", skip=("受付件数",))),
        _listed("*方法別*", _counted(summary, "method")),
        _listed("*分野別*", _counted(summary, "category")),
        _listed("*地域別*", _counted(summary, "region")),
    ]
    if attached:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": ATTACHED_NOTE}]})
    text = SUMMARY_TEXT.format(
        year=month.year, month=month.month, received=received, held=held, onsite=visits, target=target
    )
    return _message(text, blocks)


JOB_RENDERERS: Mapping[str, Callable[[Session, DeskConfig, Notice], SlackMessage | None]] = {
    "digest": render_digest,
    "quota_warning": render_quota_warning,
    "parked_report": render_parked_report,
}
