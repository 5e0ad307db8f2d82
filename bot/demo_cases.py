"""One demo consultation's life, as the desk would have lived it: the intake on LINE or the web form, the
hold and its request, the coordinator's approval, decline or other times, the owner's cancellation, the
meeting, its outcome record, the referral consent and the survey, each message in the interaction log.

Every status change is checked against the life cycle's own tables (bot.lifecycle) and written with the
history event the life cycle writes, so the rows read as real ones; nothing happens after `cutoff`, so a
recent consultation is left where the desk would be now (waiting, confirmed for next week, …).
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from bot import demo_names as words
from bot.lifecycle import (
    BOOKING_TRANSITIONS,
    CONSULTATION_TRANSITIONS,
    SYSTEM,
    BookingStatus,
    ConsultationStatus,
)
from bot.messages import OutMessage
from bot.proposals import OWNER, PROPOSAL_ACCEPTED, PROPOSAL_ASKED_AGAIN, PROPOSED
from config import DeskConfig
from config.scheduling import Coordinator
from scheduling import Slot
from scheduling.availability import jst_date, jst_midnight, working_intervals
from scheduling.holidays import add_business_days, is_business_day
from storage.bookings import Booking
from storage.channels import Channel
from storage.clock import JST
from storage.demo_rows import Row
from storage.follow_ups import NO_CHANNEL, SENT, SatisfactionSurvey
from storage.models import ConsultationEvent, Interaction, OutboxMessage
from storage.outcomes import OutcomeRecord, ReferralConsent
from storage.proposals import ACCEPTED, ASKED_AGAIN, OPEN, TimeProposal

B, C = BookingStatus, ConsultationStatus
SLOT_PATHS = (
    "approve",
    "propose",
    "propose_again",
    "decline",
    "withdraw",
    "expire",
    "cancel_after",
    "no_show",
)
SLOT_WEIGHTS = (64, 9, 3, 7, 5, 4, 4, 4)
DIRECT_PATHS = ("answered", "answered_open", "waiting", "withdraw")  # phone and e-mail: no slot taken
DIRECT_WEIGHTS = (62, 24, 8, 6)
RESULT_WEIGHTS = {"resolved": 30, "continuing": 30, "referred": 15, "information": 20, "on_hold": 5}
CLOSING = frozenset({"resolved", "referred", "information"})  # bot.outcomes.CLOSING_RESULTS
SCORES, SCORE_WEIGHTS = (5, 4, 3, 2, 1), (45, 35, 13, 5, 2)


@dataclass
class Case:
    """The consultation being lived: its rows so far and where it stands."""

    consultation: Row
    contact: Row
    channel: str
    reference: str
    coordinator: Coordinator
    status: ConsultationStatus = C.SUBMITTED
    booking: Row | None = None
    rows: list[Row] = field(default_factory=list)

    @property
    def actor(self) -> str:
        return self.coordinator.slack_user_id or self.coordinator.id


@dataclass
class Coverage:
    """What a month still owes so every path, result and consent answer shows in its report."""

    slot_paths: list[str]
    direct_paths: list[str]
    results: list[str]
    answers: list[str | None]

    @classmethod
    def fresh(cls, rng: random.Random) -> Coverage:
        lists: tuple[list[Any], ...] = (
            list(SLOT_PATHS), list(DIRECT_PATHS), list(RESULT_WEIGHTS), ["agree", "disagree", None]
        )  # fmt: skip
        for items in lists:
            rng.shuffle(items)
        return cls(*lists)


class Life:
    """Lives consultations through: the desk's rules, its coordinators' diaries, and the cut-off."""

    def __init__(self, desk: DeskConfig, rng: random.Random, cutoff: datetime) -> None:
        self.desk = desk
        self.rng = rng
        self.cutoff = cutoff
        self.closures = desk.scheduling.closures
        self.diary: dict[tuple[str, date], list[tuple[datetime, datetime]]] = {}

    # Time
    def work_after(self, start: datetime, minutes: float) -> datetime:
        """The moment `minutes` of the desk's working time (9:00 to 17:00 on business days) after `start`."""
        moment, left = start.astimezone(JST), minutes
        while True:
            day = moment.date()
            if is_business_day(day, closures=self.closures):
                opens = datetime.combine(day, time(9), tzinfo=JST)
                closes = datetime.combine(day, time(17), tzinfo=JST)
                moment = max(moment, opens)
                if moment < closes:
                    room = (closes - moment).total_seconds() / 60
                    if left <= room:
                        return moment + timedelta(minutes=left)
                    left -= room
            moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=JST)

    def delay(self, median_minutes: float) -> float:
        return min(self.rng.lognormvariate(math.log(median_minutes), 0.8), 6 * median_minutes)

    def past(self, moment: datetime) -> bool:
        return moment <= self.cutoff

    # Slots
    def find_slot(self, case: Case, method: str, region: str, municipality: str, after: date) -> Slot | None:
        """A free time of the case's coordinator from `after` on (their hours, their diary, the day cap)."""
        rules = self.desk.scheduling.rules
        duration = timedelta(minutes=rules.duration_minutes.get(method, 60))
        policy = rules.remote_policy(region, municipality) if method == "onsite" else None
        travel = timedelta(minutes=rules.travel_minutes.get(region, rules.default_travel_minutes))
        travel = travel if method == "onsite" and not policy else timedelta(0)
        step = timedelta(minutes=rules.step_minutes)
        coordinator = case.coordinator
        for _ in range(12):
            day = after + timedelta(days=self.rng.randint(0, 14))
            intervals = working_intervals(coordinator, day, closures=self.closures)
            taken = self.diary.setdefault((coordinator.id, day), [])
            if not intervals or len(taken) >= (coordinator.max_per_day or rules.max_per_day):
                continue
            if policy == "whole_day":
                if taken:
                    continue
                blocked_from, blocked_until = intervals[0][0], intervals[-1][1]
                starts = blocked_from + timedelta(minutes=60)
            else:
                opens, closes = self.rng.choice(intervals)
                steps = int((closes - opens - duration) / step)
                if steps < 0:
                    continue
                starts = opens + step * self.rng.randint(0, steps)
                blocked_from = starts - travel
                blocked_until = starts + duration + travel + timedelta(minutes=rules.buffer_minutes)
                if any(blocked_from < until and begin < blocked_until for begin, until in taken):
                    continue
            return Slot(
                coordinator_id=coordinator.id,
                method=method,
                starts_at=starts,
                ends_at=starts + duration,
                blocked_from=blocked_from,
                blocked_until=blocked_until,
                whole_day=policy == "whole_day",
            )
        return None

    def take(self, slot: Slot) -> None:
        self.diary.setdefault((slot.coordinator_id, jst_date(slot.starts_at)), []).append(
            (slot.blocked_from, slot.blocked_until)
        )

    # History and status
    def event(self, case: Case, kind: str, actor: str, at: datetime, detail: Any) -> None:
        values = {"kind": kind, "actor": actor, "at": at, "detail": detail}
        case.rows.append(Row(ConsultationEvent, values, {"consultation_id": case.consultation}))

    def consult(self, case: Case, to: ConsultationStatus, actor: str, at: datetime, reason: str) -> None:
        assert (case.status, to) in CONSULTATION_TRANSITIONS, (case.status, to)
        self.event(case, str(to), actor, at, {"from": str(case.status), "to": str(to), "reason": reason})
        case.status = to
        case.consultation.values.update(status=str(to), updated_at=at)

    def book(self, case: Case, to: BookingStatus, actor: str, at: datetime, reason: str) -> None:
        booking = case.booking
        assert booking is not None
        current = B(booking.values["status"])
        assert (current, to) in BOOKING_TRANSITIONS, (current, to)
        detail = {"from": str(current), "to": str(to), "reason": reason}
        self.event(case, f"booking_{to}", actor, at, lambda: {"booking_id": booking.id, **detail})
        booking.values.update(status=str(to), updated_at=at)
        if to not in (B.HELD, B.REQUESTED):
            booking.values["hold_expires_at"] = None

    # Messages
    def _outbox(self, case: Case, text: str, at: datetime, reason: str, via: str) -> Row:
        values = {
            "channel": case.channel,
            "payload": {"messages": [OutMessage(text).to_dict()]},
            "reply_token": None,
            "reply_expires_at": None,
            "retry_key": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "reason": reason,
            "status": "sent",
            "attempts": 1,
            "next_attempt_at": at,
            "created_at": at,
            "sent_at": at + timedelta(seconds=1),
            "reply_attempted_at": at if via == "reply" else None,
            "delivered_via": via,
        }
        row = Row(OutboxMessage, values, {"contact_id": case.contact, "consultation_id": case.consultation})
        case.rows.append(row)
        return row

    def say(self, case: Case, direction: str, text: str | None, at: datetime, *, kind: str = "text",
            reason: str = "reply") -> None:  # fmt: skip
        """One message in the log: the owner's, or the desk's (delivered by reply or push, or at once on the
        web form, which has no outbox)."""
        outbox = None
        if direction == "out" and case.channel == Channel.LINE:
            outbox = self._outbox(case, text or "", at, reason, "reply" if reason == "reply" else "push")
        delivered = at + timedelta(seconds=1) if outbox is not None else at
        values = {
            "at": at,
            "channel": case.channel,
            "direction": direction,
            "kind": kind,
            "step": None,
            "text": text,
            "external_message_id": f"{self.rng.getrandbits(60)}" if direction == "in" else None,
            "delivered_at": delivered if direction == "out" else None,
        }
        refs = {"contact_id": case.contact, "consultation_id": case.consultation, "outbox_id": outbox}
        case.rows.append(Row(Interaction, values, refs))

    def push(self, case: Case, text: str, at: datetime, reason: str) -> bool:
        """A message pushed to the owner; False when their channel cannot be pushed to (the web form)."""
        if case.channel != Channel.LINE:
            return False
        self.say(case, "out", text, at, reason=reason)
        return True

    def exchange(self, case: Case, answer: str, reply: str, at: datetime) -> None:
        """The owner taps or types, the desk answers at once."""
        self.say(case, "in", answer, at, kind="postback")
        self.say(case, "out", reply, at + timedelta(seconds=2))

    # The life
    def live(self, case: Case, coverage: Coverage, place: tuple[str, str]) -> None:
        """Lives the case from its submission up to the cut-off."""
        values = case.consultation.values
        method, submitted = values["method"], values["submitted_at"]
        slot = None
        if method in self.desk.scheduling.rules.slot_methods:
            after = add_business_days(jst_date(submitted), 1, closures=self.closures)
            slot = self.find_slot(case, method, *place, after)
        if slot is None:
            self._direct(case, coverage)
        else:
            self._booked(case, coverage, slot, place)

    def _pick(self, todo: list[Any], choices: tuple[Any, ...], weights: tuple[int, ...]) -> Any:
        return todo.pop() if todo else self.rng.choices(choices, weights)[0]

    def _direct(self, case: Case, coverage: Coverage) -> None:
        submitted = case.consultation.values["submitted_at"]
        path = self._pick(coverage.direct_paths, DIRECT_PATHS, DIRECT_WEIGHTS)
        if path == "withdraw":
            at = submitted + timedelta(hours=self.rng.uniform(1, 30))
            if self.past(at):
                self.consult(case, C.WITHDRAWN, OWNER, at, "owner")
            return
        replied = self.work_after(submitted, self.delay(150))
        if path == "waiting" or not self.past(replied):
            return
        self.consult(case, C.IN_PROGRESS, case.actor, replied, "replied")
        answered = self.work_after(replied, self.rng.uniform(15, 240))
        if path == "answered" and self.past(answered):
            self.consult(case, C.CLOSED, case.actor, answered, "answered")

    def _booked(self, case: Case, coverage: Coverage, slot: Slot, place: tuple[str, str]) -> None:
        submitted = case.consultation.values["submitted_at"]
        last_day = add_business_days(jst_date(submitted), 2, closures=self.closures)
        expires = min(jst_midnight(last_day + timedelta(days=1)), slot.starts_at)
        self.take(slot)
        booking = Row(Booking, self._slot_values(slot, submitted - timedelta(minutes=2)))
        booking.values.update(status=str(B.HELD), hold_expires_at=expires)
        booking.refs = {"consultation_id": case.consultation, "contact_id": case.contact}
        case.booking = booking
        case.rows.append(booking)
        self.book(case, B.REQUESTED, case.channel, submitted, "submitted")
        booking.values["hold_expires_at"] = expires
        path = self._pick(coverage.slot_paths, SLOT_PATHS, SLOT_WEIGHTS)
        if path in ("propose", "propose_again") and case.channel != Channel.LINE:
            path = "approve"  # other times are offered on LINE only
        decided = self.work_after(submitted, self.delay(180))
        if path == "withdraw":
            at = submitted + timedelta(hours=self.rng.uniform(1, 20))
            if self.past(at) and at < expires:
                self.book(case, B.CANCELLED, OWNER, at, "owner")
                self.consult(case, C.WITHDRAWN, OWNER, at, "owner")
                return
        if path == "expire" or decided >= expires:
            if self.past(expires):
                self.book(case, B.EXPIRED, SYSTEM, expires, "hold lapsed")
            return
        if not self.past(decided):
            return
        if path == "decline":
            reason = self.rng.choice(("time", "scope", "elsewhere", "other"))
            self.book(case, B.DECLINED, case.actor, decided, reason)
            self.consult(case, C.CLOSED, case.actor, decided, "declined")
            self.push(case, words.DECLINED_PUSH.format(reference=case.reference), decided, "booking_declined")
            return
        if path in ("propose", "propose_again"):
            confirmed = self._propose(case, decided, path == "propose_again", place)
            if confirmed is None:
                return
        else:
            confirmed = decided
            self.book(case, B.CONFIRMED, case.actor, confirmed, "approved")
            self.consult(case, C.IN_PROGRESS, case.actor, confirmed, "booking confirmed")
            self.push(
                case, words.CONFIRMED_PUSH.format(reference=case.reference), confirmed, "booking_confirmed"
            )
        self._meeting(case, coverage, path, confirmed)

    def _slot_values(self, slot: Slot, at: datetime) -> dict[str, Any]:
        return {
            "coordinator_id": slot.coordinator_id,
            "starts_at": slot.starts_at,
            "ends_at": slot.ends_at,
            "blocked_from": slot.blocked_from,
            "blocked_until": slot.blocked_until,
            "method": slot.method,
            "place": None,
            "meeting_url": None,
            "external_uid": None,
            "created_at": at,
            "updated_at": at,
        }

    def _propose(self, case: Case, at: datetime, again: bool, place: tuple[str, str]) -> datetime | None:
        """Other times offered (twice when the owner asks again), one taken: the time confirmed, or None
        when the owner has not answered by the cut-off."""
        booking = case.booking
        assert booking is not None
        method = booking.values["method"]
        while True:
            after = add_business_days(jst_date(at), 1, closures=self.closures)
            offered = [s for _ in range(3) if (s := self.find_slot(case, method, *place, after)) is not None]
            if not offered:
                return None
            proposal = Row(TimeProposal, {
                "token": f"{self.rng.getrandbits(64):016x}", "slots": [s.as_dict() for s in offered],
                "status": OPEN, "proposed_by": case.actor, "source": None, "chosen": None,
                "created_at": at, "answered_at": None,
            }, {"booking_id": booking, "consultation_id": case.consultation})  # fmt: skip
            case.rows.append(proposal)
            times = [s.starts_at.isoformat() for s in offered]
            detail = {"times": times}
            self.event(case, PROPOSED, case.actor, at, lambda p=proposal, d=detail: {
                "booking_id": booking.id, "proposal_id": p.id, **d})  # fmt: skip
            self.push(case, words.PROPOSAL_PUSH.format(reference=case.reference), at, PROPOSED)
            booking.values["hold_expires_at"] = min(offered[0].starts_at, at + timedelta(days=3))
            answered = at + timedelta(hours=self.rng.uniform(0.3, 20))
            if not self.past(answered) or answered >= booking.values["hold_expires_at"]:
                return None
            if again:
                proposal.values.update(status=ASKED_AGAIN, answered_at=answered)
                self.event(case, PROPOSAL_ASKED_AGAIN, OWNER, answered, lambda p=proposal: {
                    "booking_id": booking.id, "proposal_id": p.id})  # fmt: skip
                self.exchange(case, "別の日時を希望", words.SURVEY_THANKS, answered)
                at, again = self.work_after(answered, self.delay(120)), False
                if not self.past(at):
                    return None
                continue
            chosen = self.rng.randrange(len(offered))
            slot = offered[chosen]
            self.take(slot)
            proposal.values.update(status=ACCEPTED, answered_at=answered, chosen=chosen)
            booking.values.update(
                {k: v for k, v in self._slot_values(slot, answered).items() if k != "created_at"}
            )
            self.event(
                case,
                "booking_moved",
                OWNER,
                answered,
                lambda: {"booking_id": booking.id, "status": "requested"},
            )
            self.event(case, PROPOSAL_ACCEPTED, OWNER, answered, lambda p=proposal, t=times[chosen]: {
                "booking_id": booking.id, "proposal_id": p.id, "time": t})  # fmt: skip
            self.book(case, B.CONFIRMED, OWNER, answered, "approved")
            self.consult(case, C.IN_PROGRESS, OWNER, answered, "booking confirmed")
            self.exchange(case, "この日時にする", words.PROPOSAL_ACCEPTED_REPLY, answered)
            return answered

    def _meeting(self, case: Case, coverage: Coverage, path: str, confirmed: datetime) -> None:
        booking = case.booking
        assert booking is not None
        starts, ends = booking.values["starts_at"], booking.values["ends_at"]
        if path == "cancel_after":
            at = confirmed + (starts - confirmed) * self.rng.uniform(0.2, 0.9)
            if self.past(at):
                self.book(case, B.CANCELLED, OWNER, at, "owner")
                self.consult(case, C.WITHDRAWN, OWNER, at, "owner")
            return
        if not self.past(ends):
            return
        if path == "no_show":
            at = self.work_after(ends, self.rng.uniform(30, 300))
            if self.past(at):
                self.book(case, B.NO_SHOW, case.actor, at, "no show")
            return
        self._survey(case, ends)
        recorded = self.work_after(ends, self.delay(120))
        if self.past(recorded):
            self._record(case, coverage, recorded)

    def _survey(self, case: Case, ends: datetime) -> None:
        follow_ups = self.desk.follow_ups
        day = add_business_days(jst_date(ends), 1, closures=self.closures)
        due = datetime.combine(day, follow_ups.survey_time, tzinfo=JST)
        if not self.past(due):
            return
        survey = Row(SatisfactionSurvey, {
            "status": SENT if case.channel == Channel.LINE else NO_CHANNEL, "due_at": due, "created_at": due,
            "score": None, "answered_at": None, "comment": None, "commented_at": None,
        }, {"booking_id": case.booking, "consultation_id": case.consultation, "contact_id": case.contact,
            "outbox_message_id": None})  # fmt: skip
        case.rows.append(survey)
        if not self.push(case, words.SURVEY_PUSH, due, "survey"):
            return
        survey.refs["outbox_message_id"] = case.rows[-2]  # the outbox row the push just wrote
        answered = due + timedelta(minutes=self.rng.uniform(5, 2880))
        if self.rng.random() > 0.68 or not self.past(answered):
            return
        score = self.rng.choices(SCORES, SCORE_WEIGHTS)[0]
        survey.values.update(score=score, answered_at=answered)
        self.exchange(case, str(score), words.SURVEY_COMMENT_PROMPT, answered)
        commented = answered + timedelta(minutes=self.rng.uniform(1, 20))
        if self.past(commented):
            comment = self.rng.choice(words.SURVEY_COMMENTS) if self.rng.random() < 0.35 else None
            survey.values.update(comment=comment, commented_at=commented)
            self.exchange(case, comment or "スキップ", words.SURVEY_THANKS, commented)

    def _record(self, case: Case, coverage: Coverage, at: datetime) -> None:
        """The coordinator's outcome record: the booking done, the case closed when the result ends it,
        and the owner asked about the record's referrals."""
        rng, booking, values = self.rng, case.booking, case.consultation.values
        assert booking is not None
        result = self._pick(coverage.results, tuple(RESULT_WEIGHTS), tuple(RESULT_WEIGHTS.values()))
        partners = [p.id for p in self.desk.outcomes.partners if p.id != "other"]
        programmes = [p.id for p in self.desk.outcomes.programmes if p.id != "other"]
        chosen_partners = (
            rng.sample(partners, rng.randint(1, 2)) if result == "referred" or rng.random() < 0.08 else []
        )
        vendor_topic = values["category"] in ("efficiency", "cashless", "vendor_select", "cloud_tools")
        vendors = [words.vendor_name(rng)] if vendor_topic and rng.random() < 0.3 else []
        wanted = 0.9 if values["category"] == "subsidy" else 0.25
        chosen_programmes = rng.sample(programmes, rng.randint(1, 2)) if rng.random() < wanted else []
        follow_up = result in ("continuing", "on_hold")
        minutes = (booking.values["ends_at"] - booking.values["starts_at"]).total_seconds() // 60
        self.book(case, B.DONE, case.actor, at, "outcome recorded")
        record = Row(OutcomeRecord, {
            "revision": 1, "method": booking.values["method"], "minutes": int(minutes) + rng.choice((-15, 0, 0, 15, 30)),
            "summary": rng.choice(words.SUMMARIES), "result": result, "programmes": chosen_programmes,
            "next_action": rng.choice(words.NEXT_ACTIONS) if follow_up else None,
            "next_action_on": jst_date(at) + timedelta(days=rng.randint(14, 30)) if follow_up else None,
            "onsite": booking.values["method"] == "onsite", "partners": chosen_partners, "vendors": vendors,
            "recorded_by": case.actor, "recorded_at": at,
        }, {"consultation_id": case.consultation, "booking_id": booking})  # fmt: skip
        case.rows.append(record)
        if result in CLOSING:
            self.consult(case, C.CLOSED, case.actor, at, f"outcome {result}")
        if chosen_partners or vendors:
            self._consent(case, coverage, record, at)

    def _consent(self, case: Case, coverage: Coverage, record: Row, at: datetime) -> None:
        asked = self.push(case, words.CONSENT_PUSH.format(reference=case.reference), at, "referral_consent")
        consent = Row(ReferralConsent, {"asked_at": at, "asked": asked, "answer": None, "answered_at": None},
                      {"outcome_id": record, "consultation_id": case.consultation, "contact_id": case.contact})  # fmt: skip
        case.rows.append(consent)
        if not asked:
            return
        answer = (
            coverage.answers.pop()
            if coverage.answers
            else self.rng.choices(("agree", "disagree", None), (65, 15, 20))[0]
        )
        answered = at + timedelta(minutes=self.rng.uniform(10, 1440))
        if answer is not None and self.past(answered):
            consent.values.update(answer=answer, answered_at=answered)
            self.exchange(
                case, "同意する" if answer == "agree" else "同意しない", words.CONSENT_REPLY, answered
            )
