"""`madoguchi demo-data`: a realistic, fictitious year of the desk (the past twelve months and the current
one, up to the start of the clock's day in Japan), so a newcomer can open a report at once.

Deterministic: one seed on one day gives the same rows. Demo consultations carry references starting
with DEMO-; a database holding anything else is refused unless forced (and then left untouched); earlier
demo data is replaced. Personal data is fictitious and encrypted like real data (the models' column types).
"""

from __future__ import annotations

import calendar
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import demo_names as words
from bot.demo_cases import Case, Coverage, Life
from config import DeskConfig
from config.scheduling import Coordinator
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import JST
from storage.crypto import keyring
from storage.database import Database
from storage.demo_rows import DEMO_PREFIX, RealData, Row, count_real_data, remove_demo_data, write_rows
from storage.follow_ups import SatisfactionSurvey
from storage.models import (
    Company,
    Consent,
    Consultation,
    ConsultationEvent,
    Contact,
    Interaction,
    OutboxMessage,
)
from storage.outcomes import OutcomeRecord, ReferralConsent
from storage.proposals import TimeProposal

ORDER = (Contact, Company, Consultation, Consent, Booking, TimeProposal, ConsultationEvent, OutcomeRecord,
         ReferralConsent, OutboxMessage, Interaction, SatisfactionSurvey)  # fmt: skip
MONTHS_BACK = 12
INDUSTRY_WEIGHTS = {"E": 15, "D": 10, "I": 15, "M": 14, "N": 8, "P": 7, "H": 5, "A": 6, "G": 4, "L": 5, "R": 5,
                    "B": 2, "K": 3, "O": 2, "J": 1, "Q": 1, "F": 1, "C": 1, "T": 1}  # fmt: skip
BIG_PLACES = {
    "46201": 60,
    "46218": 12,
    "46203": 10,
    "46215": 9,
    "46225": 8,
}  # 鹿児島・霧島・鹿屋・薩摩川内・姶良
BAND_WEIGHTS = {"none": 15, "1_5": 35, "6_20": 28, "21_50": 12, "51_100": 6, "101_300": 3, "301_": 1}
STAGE_WEIGHTS = {"not_started": 30, "considering": 35, "partial": 28, "active": 7}
METHOD_WEIGHTS = {"visit_desk": 20, "onsite": 25, "online": 30, "phone": 15, "email": 10}
HOURS, HOUR_WEIGHTS = tuple(range(7, 24)), (1, 3, 6, 8, 8, 5, 6, 8, 8, 7, 5, 4, 4, 5, 6, 5, 2)


class RealDataFound(Exception):
    """The database holds consultations or contacts that demo-data did not make."""

    def __init__(self, real: RealData) -> None:
        super().__init__(
            f"{real.consultations} consultation(s) and {real.contacts} contact(s) not made by demo-data"
        )
        self.real = real


@dataclass(frozen=True)
class DemoData:
    """What was written."""

    seed: int
    first_month: str
    last_month: str
    full_month: str  # the latest whole month, the one to try a report on
    consultations: int
    contacts: int
    bookings: int
    messages: int
    replaced: int  # earlier demo consultations removed first


@dataclass
class _Business:
    contact: Row
    channel: str
    company: dict[str, Any]  # the company's answers, reused by a returning owner
    personal: dict[str, Any]


def _weighted(rng: random.Random, weights: dict[str, int], allowed: set[str]) -> str:
    choices = [k for k in weights if k in allowed] or sorted(allowed)
    return rng.choices(choices, [weights.get(k, 1) for k in choices])[0]


def demo_months(now: datetime) -> list[tuple[int, int]]:
    """The twelve months before the clock's (Japan-time) month, and that month."""
    today = now.astimezone(JST)
    index = today.year * 12 + today.month - 1
    return [divmod(i, 12) for i in range(index - MONTHS_BACK, index + 1)]


class _Year:
    def __init__(self, desk: DeskConfig, seed: int, now: datetime) -> None:
        self.desk = desk
        self.rng = random.Random(seed)
        local = now.astimezone(JST)
        self.cutoff = local.replace(hour=0, minute=0, second=0, microsecond=0)  # the same data all day
        self.life = Life(desk, self.rng, self.cutoff)
        # An online request sent just before the cut-off, out of working hours: it waits for the desk's
        # decision (要承認) whatever day the data are made on.
        self.latest = self.cutoff - timedelta(minutes=15)
        self.known: list[_Business] = []
        self.unused_places = [m.code for m in desk.municipalities]  # each shows up in the year
        self.unused_industries = [c.id for c in desk.industries]
        self.rng.shuffle(self.unused_places)
        self.rng.shuffle(self.unused_industries)
        self.serial = 0
        self.ids = {kind: {c.id for c in getattr(desk, kind)} for kind in
                    ("industries", "categories", "employee_bands", "dx_stages", "methods")}  # fmt: skip

    def months(self) -> Iterator[tuple[str, list[Row]]]:
        for year, month in demo_months(self.cutoff):
            month += 1
            coverage = Coverage.fresh(self.rng)
            rows: list[Row] = []
            for submitted in self._submissions(year, month):
                rows += self._consultation(submitted, coverage)
            if (self.latest.year, self.latest.month) == (year, month):
                rows += self._consultation(self.latest, coverage, method="online")
            yield f"{year}-{month:02d}", rows

    def _submissions(self, year: int, month: int) -> list[datetime]:
        days = calendar.monthrange(year, month)[1]
        start = datetime(year, month, 1, tzinfo=JST)
        end = min(start + timedelta(days=days), self.cutoff)
        count = self.rng.randint(40, 80)
        if end <= start:
            return []
        count = max(1, round(count * (end - start) / timedelta(days=days)))
        times: list[datetime] = []
        while len(times) < count:
            day = start + timedelta(days=self.rng.randrange(days))
            if day.weekday() >= 5 and self.rng.random() < 0.65:
                continue  # fewer requests at weekends
            moment = day + timedelta(
                hours=self.rng.choices(HOURS, HOUR_WEIGHTS)[0], minutes=self.rng.randrange(60)
            )
            if moment < end:
                times.append(moment)
        return sorted(times)

    def _coordinator(self, category: str, region: str, method: str) -> Coordinator:
        coordinators = self.desk.scheduling.coordinators
        fits = [c for c in coordinators if c.takes(category=category, region=region, method=method)]
        fits = fits or [c for c in coordinators if c.takes(category=category, region=None, method=method)]
        return self.rng.choice(fits or list(coordinators))

    def _business(self, at: datetime) -> _Business:
        """A new business and its owner, first in touch at `at`."""
        rng, desk = self.rng, self.desk
        if self.unused_places and rng.random() < 0.15:
            code = self.unused_places.pop()
        else:
            code = rng.choices([m.code for m in desk.municipalities],
                               [BIG_PLACES.get(m.code, 3 if m.name.endswith("市") else 1) for m in desk.municipalities])[0]  # fmt: skip
        if self.unused_industries and rng.random() < 0.1:
            industry = self.unused_industries.pop()
        else:
            industry = _weighted(rng, INDUSTRY_WEIGHTS, self.ids["industries"])
        band = _weighted(rng, BAND_WEIGHTS, self.ids["employee_bands"])
        sole_trader = band in ("none", "1_5") and rng.random() < 0.3
        name, romaji = words.person(rng)
        trade_name = None if sole_trader and rng.random() < 0.3 else words.company_name(rng, industry)
        channel = Channel.LINE if rng.random() < 0.78 else Channel.WEB
        external_id = f"U{rng.getrandbits(128):032x}" if channel == Channel.LINE else None
        personal = {"contact_name": name, "phone": words.phone(rng), "email": words.email(rng, romaji)}
        contact = Row(Contact, {
            "channel": str(channel), "external_id": external_id,
            "external_id_hash": keyring().lookup_hash(external_id) if external_id else None,
            "name": name, "phone": personal["phone"], "email": personal["email"], "reachable": True,
            "created_at": at, "updated_at": at,
        })  # fmt: skip
        municipality = desk.municipality_by_code[code]
        company = {"company_name": trade_name, "sole_trader": sole_trader, "industry": industry,
                   "municipality_code": code, "region": municipality.region, "employee_band": band,
                   "owner_name": name if sole_trader and trade_name is None else None}  # fmt: skip
        return _Business(contact, str(channel), company, personal)

    def _consultation(self, submitted: datetime, coverage: Coverage, method: str | None = None) -> list[Row]:
        rng, desk = self.rng, self.desk
        returning = bool(self.known) and rng.random() < 0.2
        business = rng.choice(self.known) if returning else self._business(submitted - timedelta(minutes=8))
        rows: list[Row] = []
        if not returning:
            self.known.append(business)
            rows.append(business.contact)
            consent = {"purpose": "intake", "notice_version": desk.privacy_notice.version, "accepted": True,
                       "at": submitted - timedelta(minutes=7)}  # fmt: skip
            rows.append(Row(Consent, consent, {"contact_id": business.contact}))
        company = business.company
        municipality = str(company["municipality_code"])
        category = rng.choice(sorted(self.ids["categories"]))
        method = method or _weighted(rng, METHOD_WEIGHTS, self.ids["methods"])
        policy = desk.scheduling.rules.remote_policy(str(company["region"]), municipality)
        if method == "onsite" and policy == "online_only":
            method = "online"  # the ferry islands: no visit offered
        secondary = rng.choice(sorted(self.ids["categories"] - {category})) if rng.random() < 0.3 else None
        self.serial += 1
        reference = f"{DEMO_PREFIX}{submitted:%Y%m}-{self.serial:04d}"
        firm = Row(Company, {"name": company["company_name"], "industry": company["industry"],
                             "municipality_code": municipality, "employee_band": company["employee_band"],
                             "created_at": submitted})  # fmt: skip
        consultation = Row(Consultation, {
            "reference": reference, "status": "submitted", "channel": business.channel, **company,
            **business.personal, "category": category, "category_secondary": secondary,
            "description": words.description(rng, category),
            "dx_stage": _weighted(rng, STAGE_WEIGHTS, self.ids["dx_stages"]), "method": method,
            "notice_version": desk.privacy_notice.version, "extra": None, "personal_extra": None,
            "submitted_at": submitted, "created_at": submitted, "updated_at": submitted,
        }, {"contact_id": business.contact, "company_id": firm})  # fmt: skip
        coordinator = self._coordinator(category, str(company["region"]), method)
        case = Case(consultation, business.contact, business.channel, reference, coordinator)
        case.rows += [firm, consultation]
        self.life.event(case, "submitted", business.channel, submitted, {})
        self._intake_messages(case, returning)
        self.life.live(case, coverage, (str(company["region"]), municipality))
        return rows + case.rows

    def _intake_messages(self, case: Case, returning: bool) -> None:
        """The intake as the log keeps it: each question and the owner's answer, then the reference."""
        values, desk = case.consultation.values, self.desk
        submitted = values["submitted_at"]
        if case.channel != Channel.LINE:  # the web form: one submission, its answer shown at once
            self.life.say(case, "in", None, submitted, kind="form")
            self.life.say(case, "out", words.SUBMITTED_REPLY.format(reference=case.reference), submitted)
            return
        answers = {
            1: values["company_name"] or "屋号はありません",
            2: next(c.label for c in desk.industries if c.id == values["industry"]),
            3: desk.municipality_by_code[values["municipality_code"]].name,
            4: next(c.label for c in desk.employee_bands if c.id == values["employee_band"]),
            5: next(c.label for c in desk.categories if c.id == values["category"]),
            6: values["description"],
            7: next(c.label for c in desk.methods if c.id == values["method"]),
            8: values["contact_name"],
        }
        at = submitted - timedelta(seconds=40 * (len(words.INTAKE_STEPS) + 1))
        if not returning:
            self.life.say(case, "in", None, at - timedelta(minutes=1), kind="follow")
        self.life.say(case, "in", "相談する", at, kind="postback")
        for index, (question, answer) in enumerate(words.INTAKE_STEPS):
            self.life.say(case, "out", question, at + timedelta(seconds=1))
            at += timedelta(seconds=40)
            self.life.say(case, "in", answer or str(answers[index]), at)
        self.life.say(case, "out", words.SUBMITTED_REPLY.format(reference=case.reference), submitted)


def generate_demo_data(
    *,
    db: Database,
    desk: DeskConfig,
    now: datetime,
    seed: int = 1,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> DemoData:
    """Writes the demo year in one transaction, replacing earlier demo data; RealDataFound (nothing
    written) when the database holds other data and `force` is not given (with it, that data is kept)."""
    year = _Year(desk, seed, now)
    months = demo_months(now)
    with db.session() as session:
        real = count_real_data(session=session)
        if real and not force:
            raise RealDataFound(real)
        replaced = remove_demo_data(session=session)
        counts: dict[type, int] = {}
        for done, (_, rows) in enumerate(year.months(), start=1):
            write_rows(session=session, rows=rows, order=ORDER)
            for row in rows:
                counts[row.model] = counts.get(row.model, 0) + 1
            if progress is not None:
                progress(done, len(months))
    first, last = months[0], months[-1]
    return DemoData(
        seed=seed,
        first_month=f"{first[0]}-{first[1] + 1:02d}",
        last_month=f"{last[0]}-{last[1] + 1:02d}",
        full_month=f"{months[-2][0]}-{months[-2][1] + 1:02d}",
        consultations=counts.get(Consultation, 0),
        contacts=counts.get(Contact, 0),
        bookings=counts.get(Booking, 0),
        messages=counts.get(Interaction, 0),
        replaced=replaced,
    )
