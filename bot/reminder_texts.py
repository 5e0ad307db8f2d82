"""What owners read in a reminder of their booking, kept in one place to review (polite, short on a phone)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from scheduling.holidays import is_public_holiday
from storage.clock import JST

WEEKDAY_JA = "月火水木金土日"

DAY_BEFORE = "【{desk}】\n{day}のご相談のお知らせです。\n{lines}\n{closing}"
SOON = "【{desk}】\nまもなくご相談のお時間です。\n{lines}\n{closing}"
TOMORROW, TODAY = "明日", "本日"
WHEN = "日時：{when}"
ONLINE = "方法：オンライン\n参加URL：{url}"
ONLINE_NO_URL = "方法：オンライン（URLは担当からお送りします）"
DESK = "場所：{desk}の窓口"
DESK_ADDRESS = "住所：{address}"
DESK_MAP = "地図：{url}"
ONSITE = "場所：貴社の事業所（{place}）"
ONSITE_NO_PLACE = "場所：貴社の事業所"
PHONE = "方法：お電話（担当からおかけします）"
EMAIL = "方法：メール"
CLOSING_DAY_BEFORE = "ご都合が悪くなったときは、メニューの「予約確認」から変更・キャンセルできます。"
CLOSING_ONLINE = "お時間になりましたら、上のURLからご参加ください。"
CLOSING_VISIT = "お気をつけてお越しください。"
CLOSING_OTHER = "どうぞよろしくお願いいたします。"


def date_ja(moment: datetime) -> str:
    """`12月3日(木)`, or `11月23日(月・祝)` on a public holiday, in Japan time."""
    local = moment.astimezone(JST)
    weekday = WEEKDAY_JA[local.weekday()] + ("・祝" if is_public_holiday(local.date()) else "")
    return f"{local.month}月{local.day}日({weekday})"


@lru_cache(maxsize=1024)  # a sweep words thousands of reminders for a few dozen slot times
def when_ja(starts_at: datetime, ends_at: datetime) -> str:
    """`12月3日(木) 14:00〜15:00` in Japan time."""
    starts, ends = starts_at.astimezone(JST), ends_at.astimezone(JST)
    return f"{date_ja(starts)} {starts:%H:%M}〜{ends:%H:%M}"
