"""The summary's sections whose records are not kept yet: one function per source, each returning None
(the section is left out) until its table exists.

TODO(outcomes): 対応結果 by result (解決 / 継続支援 / 他機関紹介 / 情報提供のみ / 対応保留) from the outcome records.
TODO(referrals): 紹介先別の件数 by destination, from the referral records (with consent).
TODO(programmes): 紹介した支援制度 by programme, from the outcome records.
TODO(surveys): 満足度 (average and count) from the satisfaction surveys.
Each returns a `Section` built with `aggregate.count_section` or `aggregate.value_section` over the same
period columns, so every writer shows it without change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from config import DeskConfig
from reporting.periods import ReportPeriod

if TYPE_CHECKING:
    from reporting.aggregate import Section


def outcomes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """対応結果: not recorded yet."""
    return None


def referrals_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介先別: not recorded yet."""
    return None


def programmes_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """紹介した支援制度: not recorded yet."""
    return None


def satisfaction_section(session: Session, desk: DeskConfig, period: ReportPeriod) -> Section | None:
    """満足度（平均・回答数）: not recorded yet."""
    return None


PENDING_SOURCES = (outcomes_section, referrals_section, programmes_section, satisfaction_section)
