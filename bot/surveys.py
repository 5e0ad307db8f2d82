"""The owner's answer to a satisfaction survey: the score once, then the comment (or none) once; after the
score the coordinators' card is refreshed (a Notice of kind `survey_answered`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from bot.sending import TO_THREAD, NoSender, Notice, Outbound
from storage import follow_ups as store
from storage.clock import Clock

log = logging.getLogger(__name__)

SURVEY_ANSWERED = "survey_answered"
# How long after the score a typed message is still taken as its comment (later, it is a new message).
COMMENT_WINDOW = timedelta(hours=12)
# What the card's thread says of an answer (the comment as the owner wrote it)
THREAD_SCORE = "アンケートのご回答：満足度 {score}/5"
THREAD_COMMENT = "アンケートのコメント：{comment}"


class Answered(StrEnum):
    RECORDED = "recorded"
    ALREADY = "already"  # answered before: nothing changes
    NOT_YOURS = "not_yours"  # no such survey, or another owner's, or not a score of 1 to 5


@dataclass(frozen=True)
class SurveyBook:
    """One owner's surveys, in the turn's transaction."""

    session: Session
    clock: Clock
    outbound: Outbound
    contact_id: int

    def _own(self, survey_id: int) -> store.SatisfactionSurvey | None:
        survey = store.get_survey(session=self.session, survey_id=survey_id)
        return survey if survey is not None and survey.contact_id == self.contact_id else None

    def answer_score(self, survey_id: int, score: int) -> Answered:
        """Stores the score of the owner's survey, once."""
        survey = self._own(survey_id)
        if survey is None or not 1 <= score <= 5:
            return Answered.NOT_YOURS
        if not store.record_score(
            session=self.session, survey_id=survey_id, score=score, now=self.clock.now()
        ):
            return Answered.ALREADY
        self._tell_coordinators(survey, {"score": score}, THREAD_SCORE.format(score=score))
        return Answered.RECORDED

    def answer_comment(self, survey_id: int, comment: str | None) -> Answered:
        """Stores the comment (None: skipped) of a scored survey, once."""
        survey = self._own(survey_id)
        if survey is None:
            return Answered.NOT_YOURS
        now = self.clock.now()
        if not store.record_comment(session=self.session, survey_id=survey_id, comment=comment, now=now):
            return Answered.ALREADY
        if comment is not None:
            self._tell_coordinators(
                survey, {"score": survey.score, "commented": True}, THREAD_COMMENT.format(comment=comment)
            )
        return Answered.RECORDED

    def takes_comment(self, survey_id: int) -> bool:
        """Whether the owner's scored survey still waits for its comment (for COMMENT_WINDOW after the score)."""
        survey = self._own(survey_id)
        return (
            survey is not None
            and survey.commented_at is None
            and survey.answered_at is not None
            and survey.answered_at > self.clock.now() - COMMENT_WINDOW
        )

    def _tell_coordinators(
        self, survey: store.SatisfactionSurvey, detail: dict[str, object], said: str
    ) -> None:
        """Refreshes the card (満足度 n/5) and says the answer in its thread."""
        if survey.consultation_id is None:
            return
        card = Notice(
            SURVEY_ANSWERED,
            consultation_id=survey.consultation_id,
            booking_id=survey.booking_id,
            detail={"survey_id": survey.id, **detail},
        )
        thread = Notice(
            SURVEY_ANSWERED,
            consultation_id=survey.consultation_id,
            booking_id=survey.booking_id,
            to=TO_THREAD,
            text=said,
        )
        try:
            self.outbound.to_coordinators(session=self.session, notice=card)
            self.outbound.to_coordinators(session=self.session, notice=thread)
        except NoSender:
            log.info("survey %s answered; no coordinators' channel to tell", survey.id)
