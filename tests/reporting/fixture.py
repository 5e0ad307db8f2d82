"""A fixture month, November 2026, with totals worked out by hand (listed in EXPECTED), and its neighbours
across the month's, the fiscal year's and the previous year's boundaries.

November 2026 (Japan time): three consultations.
- N1 株式会社さつま製作所 (contact A), 霧島市, E, onsite, efficiency, closed; submitted 11/2 09:00; a visit done
  11/5 10:00-11:00 by example-yamada; first coordinator action 2 h after submission.
- N2 a sole trader without a trade name (owner 西郷 花子, contact B), 鹿児島市, M, online, web_sns,
  in_progress; submitted 11/10 14:00; an online meeting confirmed for 11/20 13:00 (past: held); 4 h.
- N3 株式会社さつま製作所 again (contact A: a repeat), 霧島市, E, onsite, subsidy, submitted; 11/30 23:30
  (14:30 UTC, still November); a visit confirmed for 12/10 (not held yet: the next planned meeting); 10 h.
Outside it: 12/1 00:10 (November in UTC), 10/31 23:50, 2025/11/15 (the same month a year before),
2026/4/1 00:05 (FY2026) and 2026/3/31 23:55 (FY2025).
LINE in November: 4 received; 3 delivered (1 shown at once, 1 reply, 1 push), and not counted: one still
waiting in the outbox, one delivered on 12/1 Japan time, one received 12/1 00:00 Japan time. LINE's quota
read twice in November (the last: 180 of 200 used), once in November 2025 (50, no limit).

Outcome records (the latest revision counts, in the month it was recorded, Japan time):
- N1's visit: revision 1 (11/5: continuing; 持続化補助金; 鹿児島商工会議所, agreed) corrected by revision 2
  (11/7: resolved; デジタル化・AI導入補助金 and かごしま中小企業DX推進事業費補助金; よろず支援拠点, 霧島商工会議所
  and the vendor 株式会社サンプルシステム, agreed on 11/8): 3 referrals, 2 programmes.
- N2's meeting (11/20: referred; デジタル化・AI導入補助金; KISC and the vendor 有限会社テストIT, the owner
  disagreed): 2 referrals not counted, 1 programme.
- F (4/1) met online 4/10 (information; ものづくり補助金; KISC, agreed 4/11): FY2026 to date.
- E (2025/11/15) met online 2025/11/20 (continuing; 持続化補助金; the vendor, not answered yet).
- C (12/1 00:10) met online 12/1 00:20, recorded 12/1 01:30 Japan time (11/30 in UTC): December, not counted.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage.bookings import Booking
from storage.clock import JST
from storage.desk_posts import QuotaReading
from storage.models import (
    Company,
    Consultation,
    ConsultationEvent,
    Contact,
    Interaction,
    OutboxMessage,
)
from storage.outcomes import OutcomeRecord, ReferralConsent

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=JST)  # when the report is made
CONTACT_NAME = "山田 一郎"
PHONE = "099-000-1111"
EMAIL = "ichiro@example.jp"
OWNER_NAME = "西郷 花子"
DESCRIPTION = "会計ソフトの入れ替えを相談したい"

EXPECTED = {
    "受付件数": (3, 5, 1),  # November, FY2026 to November (4/1, 10/31, N1-N3), November 2025
    "対応完了": (1, 1, 0),
    "対応中": (1, 1, 0),
    "受付済み（未対応）": (1, 3, 1),
    "新規（初回の相談）": (2, 4, 1),
    "継続（2回目以降の相談）": (1, 1, 0),
    "面談実施件数": (2, 3, 1),  # N1, N2; F (online); E (online)
    "うち企業訪問（現地）": (1, 1, 0),
    "企業訪問の目標": (5, 40, 5),
    "企業訪問の達成率": (20.0, 2.5, 0.0),
    "中央値": (4.0, 4.0, None),
    "90パーセンタイル": (8.8, 8.8, None),
    "受信": (4, 4, 0),
    "送信（配信済み）": (3, 3, 0),
    "うちプッシュ送信（無料枠の対象）": (1, 1, 0),
    "無料枠の使用数（LINEの集計）": (180, 180, 50),
    "無料枠（月間の上限）": (200, 200, None),
    "無料枠の使用率": (90.0, 90.0, None),
    "対応記録の件数": (2, 3, 1),  # N1 (its revision 2), N2; F; E
    "解決": (1, 1, 0),
    "継続支援": (0, 0, 1),
    "他機関紹介": (1, 1, 0),
    "情報提供のみ": (0, 1, 0),
    "紹介件数（本人の同意あり）": (3, 4, 0),
    "鹿児島県よろず支援拠点": (1, 1, 0),
    "霧島商工会議所": (1, 1, 0),
    "かごしま産業支援センター（KISC）": (0, 1, 0),  # N2's without consent: only F's
    "ITベンダー": (1, 1, 0),
    "同意のない紹介（数えない）": (2, 2, 1),
    "紹介した支援制度（延べ件数）": (3, 4, 1),
    "デジタル化・AI導入補助金（旧 IT導入補助金）": (2, 2, 0),
    "かごしま中小企業DX推進事業費補助金（鹿児島県）": (1, 1, 0),
    "ものづくり補助金": (0, 1, 0),
    "小規模事業者持続化補助金": (0, 0, 1),  # N1's revision 1 is corrected away
    "その他の支援制度": (0, 0, 0),  # C's is December's
}
# Not shown at all: a partner named in no column (鹿児島商工会議所 only in N1's corrected revision).
NOT_SHOWN = ("鹿児島商工会議所",)
VENDOR = "株式会社サンプルシステム"
# The detail list's record columns for N1, N2, N3: 対応結果, 紹介先, 紹介日, 紹介した支援制度
DETAIL_RECORDS = (
    (
        "解決",
        f"鹿児島県よろず支援拠点、霧島商工会議所、{VENDOR}",
        date(2026, 11, 8),
        "デジタル化・AI導入補助金（旧 IT導入補助金）、かごしま中小企業DX推進事業費補助金（鹿児島県）",
    ),
    ("他機関紹介", None, None, "デジタル化・AI導入補助金（旧 IT導入補助金）"),
    (None, None, None, None),
)


def _at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=JST)


class Builder:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.contacts: dict[str, Contact] = {}
        self.minute = 0

    def contact(self, key: str, **values: Any) -> Contact:
        if key not in self.contacts:
            contact = Contact(channel="line", external_id_hash=uuid.uuid4().hex, **values)
            self.session.add(contact)
            self.session.flush()
            self.contacts[key] = contact
        return self.contacts[key]

    def consultation(
        self,
        contact: str,
        submitted_at: datetime,
        *,
        company: str | None = "株式会社さつま製作所",
        municipality: str = "46218",
        region: str = "aira_isa",
        industry: str = "E",
        method: str = "onsite",
        category: str = "efficiency",
        status: str = "submitted",
        employee_band: str = "6_20",
        dx_stage: str = "partial",
        **values: Any,
    ) -> Consultation:
        person = self.contact(contact)
        firm = Company(name=company, industry=industry, municipality_code=municipality, employee_band="6_20")
        row = Consultation(
            reference=f"KG-{uuid.uuid4().hex[:10]}",
            status=status,
            channel="line",
            contact=person,
            company=firm,
            company_name=company,
            industry=industry,
            municipality_code=municipality,
            region=region,
            employee_band=employee_band,
            category=category,
            description=DESCRIPTION,
            dx_stage=dx_stage,
            method=method,
            notice_version="2026-11",
            submitted_at=submitted_at,
            **values,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(
            ConsultationEvent(consultation_id=row.id, kind="submitted", actor="line", at=submitted_at)
        )
        return row

    def action(self, consultation: Consultation, after: timedelta, actor: str = "U0EXYAMADA") -> None:
        """A coordinator's first action (and the owner's own change before it, which does not count)."""
        at = consultation.submitted_at
        self.session.add(
            ConsultationEvent(
                consultation_id=consultation.id, kind="booking_cancelled", actor="owner", at=at + after / 2
            )
        )
        self.session.add(
            ConsultationEvent(
                consultation_id=consultation.id, kind="booking_confirmed", actor=actor, at=at + after
            )
        )
        self.session.add(
            ConsultationEvent(
                consultation_id=consultation.id,
                kind="closed",
                actor=actor,
                at=at + after + timedelta(hours=1),
            )
        )

    def booking(self, consultation: Consultation, starts_at: datetime, status: str, method: str) -> Booking:
        row = Booking(
            consultation_id=consultation.id,
            coordinator_id="example-yamada",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            blocked_from=starts_at,
            blocked_until=starts_at + timedelta(hours=1),
            method=method,
            status=status,
        )
        self.session.add(row)
        self.session.flush()
        return row

    def record(
        self,
        booking: Booking,
        recorded_at: datetime,
        result: str,
        *,
        revision: int = 1,
        programmes: tuple[str, ...] = (),
        partners: tuple[str, ...] = (),
        vendors: tuple[str, ...] = (),
        answer: str | None = None,
        answered_at: datetime | None = None,
    ) -> None:
        """An outcome record, and the consent asked for its referrals (when it names any)."""
        assert booking.consultation_id is not None
        row = OutcomeRecord(
            consultation_id=booking.consultation_id,
            booking_id=booking.id,
            revision=revision,
            method=booking.method,
            minutes=60,
            summary="相談内容の要約",
            result=result,
            programmes=list(programmes),
            partners=list(partners),
            vendors=list(vendors),
            recorded_by="U0EXYAMADA",
            recorded_at=recorded_at,
        )
        self.session.add(row)
        self.session.flush()
        if partners or vendors:
            consultation = self.session.get(Consultation, booking.consultation_id)
            assert consultation is not None
            self.session.add(
                ReferralConsent(
                    outcome_id=row.id,
                    consultation_id=consultation.id,
                    contact_id=consultation.contact_id,
                    asked_at=recorded_at,
                    answer=answer,
                    answered_at=answered_at,
                )
            )

    def message(
        self, direction: str, at: datetime, *, delivered_at: datetime | None = None, via: str | None = None
    ) -> None:
        outbox_id = None
        if via is not None:
            outbox = OutboxMessage(
                channel="line",
                payload={"messages": []},
                retry_key=str(uuid.uuid4()),
                status="sent" if delivered_at else "pending",
                delivered_via=via if delivered_at else None,
            )
            self.session.add(outbox)
            self.session.flush()
            outbox_id = outbox.id
        self.session.add(
            Interaction(
                at=at,
                channel="line",
                direction=direction,
                kind="text",
                contact_id=self.contact("A").id,
                outbox_id=outbox_id,
                delivered_at=delivered_at if direction == "out" else None,
            )
        )


def build_fixture_month(session: Session) -> dict[str, Consultation]:
    """Writes the fixture (see the module's text) and returns November's consultations by name."""
    b = Builder(session)
    b.contact("A", name=CONTACT_NAME, phone=PHONE, email=EMAIL)
    n1 = b.consultation(
        "A", _at(2026, 11, 2, 9, 0), status="closed", contact_name=CONTACT_NAME, phone=PHONE, email=EMAIL
    )
    visit = b.booking(n1, _at(2026, 11, 5, 10, 0), "done", "onsite")
    b.action(n1, timedelta(hours=2))
    b.record(visit, _at(2026, 11, 5, 12), "continuing", programmes=("jizokuka",), partners=("cci_kagoshima",),
             answer="agree", answered_at=_at(2026, 11, 6, 9))  # fmt: skip
    b.record(visit, _at(2026, 11, 7, 9), "resolved", revision=2, programmes=("digital_ai", "kagoshima_dx"),
             partners=("yorozu", "cci_kirishima"), vendors=(VENDOR,), answer="agree",
             answered_at=_at(2026, 11, 8, 10))  # fmt: skip
    n2 = b.consultation(
        "B",
        _at(2026, 11, 10, 14, 0),
        company=None,
        sole_trader=True,
        owner_name=OWNER_NAME,
        municipality="46201",
        region="kagoshima",
        industry="M",
        method="online",
        category="web_sns",
        status="in_progress",
        employee_band="none",
        dx_stage="not_started",
        contact_name=OWNER_NAME,
    )
    meeting = b.booking(n2, _at(2026, 11, 20, 13, 0), "confirmed", "online")
    b.action(n2, timedelta(hours=4))
    b.record(meeting, _at(2026, 11, 20, 15), "referred", programmes=("digital_ai",), partners=("kisc",),
             vendors=("有限会社テストIT",), answer="disagree", answered_at=_at(2026, 11, 21, 9))  # fmt: skip
    n3 = b.consultation("A", _at(2026, 11, 30, 23, 30), category="subsidy")
    b.booking(n3, _at(2026, 12, 10, 10, 0), "confirmed", "onsite")
    b.action(n3, timedelta(hours=10))
    # Neighbours outside November.
    c = b.consultation("C", _at(2026, 12, 1, 0, 10), municipality="46201", region="kagoshima")
    b.consultation("D", _at(2026, 10, 31, 23, 50), municipality="46201", region="kagoshima")
    e = b.consultation("E", _at(2025, 11, 15, 10, 0), municipality="46203", region="osumi", industry="A")
    f = b.consultation("F", _at(2026, 4, 1, 0, 5), municipality="46203", region="osumi")
    b.consultation("G", _at(2026, 3, 31, 23, 55), municipality="46203", region="osumi")
    # Outcome records outside November (online meetings: no visit).
    b.record(b.booking(f, _at(2026, 4, 10, 10), "done", "online"), _at(2026, 4, 10, 12), "information",
             programmes=("monozukuri",), partners=("kisc",), answer="agree", answered_at=_at(2026, 4, 11, 9))  # fmt: skip
    b.record(b.booking(e, _at(2025, 11, 20, 10), "done", "online"), _at(2025, 11, 20, 12), "continuing",
             programmes=("jizokuka",), vendors=(VENDOR,))  # fmt: skip
    b.record(b.booking(c, _at(2026, 12, 1, 0, 20), "done", "online"), _at(2026, 12, 1, 1, 30), "resolved",
             programmes=("other",))  # fmt: skip
    for month, used, quota, read in (
        ("2026-11", 100, 200, _at(2026, 11, 15, 9)),
        ("2026-11", 180, 200, _at(2026, 11, 30, 9)),
        ("2025-11", 50, None, _at(2025, 11, 30, 9)),
    ):
        session.add(QuotaReading(month=month, used=used, quota=quota, read_at=read))
    # LINE in November, and just outside it.
    for day in (3, 10, 20, 30):
        b.message("in", _at(2026, 11, day, 12, 0))
    b.message("in", _at(2026, 12, 1, 0, 0))
    b.message("out", _at(2026, 11, 3, 12, 0), delivered_at=_at(2026, 11, 3, 12, 0))
    b.message("out", _at(2026, 11, 10, 12, 0), delivered_at=_at(2026, 11, 10, 12, 0), via="reply")
    b.message("out", _at(2026, 11, 20, 12, 0), delivered_at=_at(2026, 11, 20, 12, 1), via="push")
    b.message("out", _at(2026, 11, 25, 12, 0), via="push")  # still waiting
    b.message("out", _at(2026, 11, 30, 23, 59), delivered_at=_at(2026, 12, 1, 0, 1), via="push")
    session.flush()
    return {"N1": n1, "N2": n2, "N3": n3}
