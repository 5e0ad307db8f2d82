"""別の日時を提案: a coordinator offers the owner other times for a request, and the owner answers on LINE.

The times come from the slot finder (the assigned coordinator's free slots, as the owner's intake finds
them) or are typed by the coordinator. The owner's buttons carry the proposal's token: taking a time moves
the booking there through the life cycle (re-checked against the calendar and the desk's bookings) and
confirms it as 承認 does (bot.decisions.approve); 別の日時を希望 tells the coordinators. A proposal is
answered once; a newer proposal, or the request's end, makes its buttons stale. Nothing here knows Slack.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot import texts
from bot.bookings import booking_when
from bot.decisions import approve, confirmed_text, notify_coordinators
from bot.lifecycle import BookingStatus, move_booking
from bot.messages import Button, OutMessage
from bot.postback import PROPOSAL, encode
from bot.sending import NoSender, Outbound
from config import DeskConfig
from scheduling import CalendarService, Slot, SlotRequest, propose_slots
from scheduling.labels import label_slot, label_slot_range
from scheduling.propose import calendar_still_free
from storage.bookings import Booking, get_booking
from storage.clock import Clock
from storage.models import Consultation, ConsultationEvent
from storage.proposals import (
    ACCEPTED,
    ASKED_AGAIN,
    OPEN,
    REPLACED,
    TAKEN,
    TimeProposal,
    answer_proposal,
    get_proposal_by_source,
    get_proposal_by_token,
    replace_open_proposals,
    settle_proposal,
)

log = logging.getLogger(__name__)

AGAIN = "again"  # the owner's 別の日時を希望
OWNER = "owner"
# The history's (and the card's) steps of a proposal
PROPOSED = "booking_proposed"
PROPOSAL_ACCEPTED = "proposal_accepted"
PROPOSAL_ASKED_AGAIN = "proposal_asked_again"
PROPOSAL_TAKEN = "proposal_taken"
STEPS = (PROPOSED, PROPOSAL_ACCEPTED, PROPOSAL_ASKED_AGAIN, PROPOSAL_TAKEN)


class Proposed(StrEnum):
    """What came of proposing times."""

    SENT = "sent"
    ALREADY = "already"  # this very submission was proposed before (a modal submitted twice)
    DECIDED = "decided"  # the request is no longer waiting for a decision
    NO_TIMES = "no_times"  # nothing usable was chosen
    NO_CHANNEL = "no_channel"  # the owner has no channel this process can send to (a web-form owner)


def offer_count(outbound: Outbound, channel: str) -> int:
    """How many times one message to the owner's channel can offer (one button is 別の日時を希望)."""
    return outbound.capacity_of(channel).buttons - 1


def free_slots(
    *,
    session: Session,
    desk: DeskConfig,
    calendars: CalendarService,
    clock: Clock,
    booking: Booking,
    consultation: Consultation,
    count: int,
) -> list[Slot]:
    """The assigned coordinator's free slots for the request (the slot finder's, as the intake's), at most
    `count`, the booking's own time left out."""
    coordinator = desk.scheduling.coordinator(booking.coordinator_id)
    if coordinator is None or count < 1:
        return []
    config = desk.scheduling.model_copy(
        update={
            "coordinators": (coordinator,),
            "rules": desk.scheduling.rules.model_copy(update={"proposals": min(count, 13)}),
        }
    )
    municipality = desk.municipality_by_code.get(consultation.municipality_code or "")
    request = SlotRequest(
        method=booking.method,
        category=consultation.category or "other",
        region=municipality.region if municipality else "",
        municipality=municipality.code if municipality else "",
        now=clock.now(),
    )
    proposal = propose_slots(session=session, config=config, calendars=calendars, request=request)
    return [s for s in proposal.slots if s.starts_at != booking.starts_at][:count]


def typed_slot(booking: Booking, starts_at: datetime) -> Slot:
    """A time the coordinator typed, as long as the booking's meeting, with its travel and buffer."""
    return Slot(
        coordinator_id=booking.coordinator_id,
        method=booking.method,
        starts_at=starts_at,
        ends_at=starts_at + (booking.ends_at - booking.starts_at),
        blocked_from=starts_at - (booking.starts_at - booking.blocked_from),
        blocked_until=starts_at + (booking.blocked_until - booking.starts_at),
    )


def _history(
    session: Session, booking: Booking, kind: str, actor: str, now: datetime, **detail: object
) -> None:
    assert booking.consultation_id is not None
    session.add(
        ConsultationEvent(
            consultation_id=booking.consultation_id,
            kind=kind,
            actor=actor,
            at=now,
            detail={"booking_id": booking.id, **detail},
        )
    )
    session.flush()


def propose_times(
    *,
    session: Session,
    desk: DeskConfig,
    outbound: Outbound,
    booking_id: int,
    slots: Sequence[Slot],
    actor: str,
    now: datetime,
    source: str | None = None,
) -> Proposed:
    """Offers the owner these times for a requested booking (the earlier proposal's buttons go stale):
    a LINE message with a button per time and 別の日時を希望, through the outbox; the card shows it."""
    if source and get_proposal_by_source(session=session, source=source) is not None:
        return Proposed.ALREADY
    booking = get_booking(session=session, booking_id=booking_id)
    if booking is None or booking.status != BookingStatus.REQUESTED or booking.consultation_id is None:
        return Proposed.DECIDED
    consultation = session.get(Consultation, booking.consultation_id)
    assert consultation is not None
    contact = consultation.contact
    try:
        outbound.sender_for(contact.channel)
    except NoSender:
        return Proposed.NO_CHANNEL
    unique: dict[datetime, Slot] = {}
    for slot in slots:
        if slot.starts_at > now and slot.starts_at != booking.starts_at:
            unique.setdefault(slot.starts_at, slot)
    offered = sorted(unique.values(), key=lambda s: s.starts_at)[: offer_count(outbound, contact.channel)]
    if not offered:
        return Proposed.NO_TIMES
    proposal = TimeProposal(
        token=secrets.token_hex(6),
        booking_id=booking.id,
        consultation_id=consultation.id,
        slots=[s.as_dict() for s in offered],
        status=OPEN,
        proposed_by=actor,
        source=source,
        created_at=now,
    )
    try:
        with session.begin_nested():
            replace_open_proposals(session=session, booking_id=booking.id, now=now)
            session.add(proposal)
            session.flush()
    except IntegrityError:  # the same submission, proposed meanwhile by another worker
        return Proposed.ALREADY
    buttons = [
        Button(label_slot(s), encode(proposal.token, PROPOSAL, f"s{i}"), display=label_slot(s))
        for i, s in enumerate(offered)
    ]
    buttons.append(
        Button(texts.PROPOSAL_AGAIN, encode(proposal.token, PROPOSAL, AGAIN), display=texts.PROPOSAL_AGAIN)
    )
    text = texts.PROPOSAL_OWNER.format(
        reference=consultation.reference,
        when=booking_when(booking),
        lines="\n".join(f"・{label_slot_range(s)}" for s in offered),
        again=texts.PROPOSAL_AGAIN,
    )
    outbound.to_contact(
        session=session,
        contact=contact,
        messages=[OutMessage(text, tuple(buttons))],
        reason=PROPOSED,
        consultation_id=consultation.id,
    )
    _history(
        session,
        booking,
        PROPOSED,
        actor,
        now,
        proposal_id=proposal.id,
        times=[s.starts_at.isoformat() for s in offered],
    )
    notify_coordinators(
        session=session,
        outbound=outbound,
        consultation_id=consultation.id,
        kind=PROPOSED,
        booking_id=booking.id,
    )
    return Proposed.SENT


class _Taken(Exception):
    pass


class _Decided(Exception):
    pass


def answer_owner(
    *,
    session: Session,
    desk: DeskConfig,
    clock: Clock,
    calendars: CalendarService | None,
    outbound: Outbound,
    contact_id: int,
    token: str,
    value: str,
) -> list[OutMessage]:
    """The owner's answer to a proposal (a time taken, or 別の日時を希望); what they are told at once."""
    now = clock.now()
    proposal = get_proposal_by_token(session=session, token=token)
    consultation = session.get(Consultation, proposal.consultation_id) if proposal is not None else None
    if proposal is None or consultation is None or consultation.contact_id != contact_id:
        return [OutMessage(texts.PROPOSAL_STALE)]
    if proposal.status in (ACCEPTED, ASKED_AGAIN):
        return [OutMessage(texts.PROPOSAL_ALREADY_ACCEPTED)]
    booking = get_booking(session=session, booking_id=proposal.booking_id)
    if proposal.status != OPEN or booking is None or booking.status != BookingStatus.REQUESTED:
        return [OutMessage(texts.PROPOSAL_STALE)]
    if value == AGAIN:
        if not answer_proposal(session=session, proposal_id=proposal.id, status=ASKED_AGAIN, now=now):
            return [OutMessage(texts.PROPOSAL_ALREADY_ACCEPTED)]
        _history(session, booking, PROPOSAL_ASKED_AGAIN, OWNER, now, proposal_id=proposal.id)
        notify_coordinators(
            session=session,
            outbound=outbound,
            consultation_id=consultation.id,
            kind=PROPOSAL_ASKED_AGAIN,
            booking_id=booking.id,
        )
        return [OutMessage(texts.PROPOSAL_ASKED_AGAIN)]
    index = int(value[1:]) if value[:1] == "s" and value[1:].isdigit() else -1
    if not 0 <= index < len(proposal.slots):
        return [OutMessage(texts.PROPOSAL_STALE)]
    if not answer_proposal(session=session, proposal_id=proposal.id, status=ACCEPTED, now=now, chosen=index):
        return [OutMessage(texts.PROPOSAL_ALREADY_ACCEPTED)]  # a second tap, answered meanwhile
    slot = Slot.from_dict(proposal.slots[index])
    free = calendars is None or calendar_still_free(
        config=desk.scheduling, calendars=calendars, slot=slot, now=now
    )
    try:
        with session.begin_nested():  # the move and the confirmation together, or neither
            if not free or not move_booking(
                session=session,
                booking_id=booking.id,
                slot=slot,
                clock=clock,
                actor=OWNER,
                calendars=calendars,
            ):
                raise _Taken
            _history(
                session,
                booking,
                PROPOSAL_ACCEPTED,
                OWNER,
                now,
                proposal_id=proposal.id,
                time=slot.starts_at.isoformat(),
            )
            confirmed = approve(
                session=session,
                desk=desk,
                outbound=outbound,
                booking_id=booking.id,
                actor=OWNER,
                now=now,
                calendars=calendars,
                tell_owner=False,
            )
            if not confirmed:  # decided meanwhile by a coordinator
                raise _Decided
    except _Decided:
        settle_proposal(session=session, proposal_id=proposal.id, status=REPLACED)
        return [OutMessage(texts.PROPOSAL_STALE)]
    except _Taken:
        settle_proposal(session=session, proposal_id=proposal.id, status=TAKEN)
        _history(
            session,
            booking,
            PROPOSAL_TAKEN,
            OWNER,
            now,
            proposal_id=proposal.id,
            time=slot.starts_at.isoformat(),
        )
        notify_coordinators(
            session=session,
            outbound=outbound,
            consultation_id=consultation.id,
            kind=PROPOSAL_TAKEN,
            booking_id=booking.id,
        )
        return [OutMessage(texts.PROPOSAL_TAKEN)]
    moved = get_booking(session=session, booking_id=booking.id)
    assert moved is not None
    log.info("booking %s moved to a proposed time and confirmed", booking.id)
    return [OutMessage(confirmed_text(desk, moved, consultation))]
