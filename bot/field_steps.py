"""The chat's step for a plain field of the registry: its question and answer built from the field's kind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.field_kinds import Choice, Text, YesNo
from bot.fields import Field
from bot.steps import Advance, Ctx, Result, StepSpec, choice_step, text_step, with_current, yes_no_step


class NoPlainStep(ValueError):
    """The field's kind needs a step of its own (a place, a contact, a meeting): the flow declares it."""


def step_for(field: Field) -> StepSpec:
    """The step that asks for `field` and stores its answer."""
    kind = field.kind
    if type(kind) is Text:
        return text_step(field.key, field.prompt, kind.limit)
    if isinstance(kind, Choice):
        other = kind.differs_from
        return choice_step(
            field.key,
            kind.choices,
            field.prompt,
            field.prompt_more,
            field.more_label,
            exclude=(lambda ctx: ctx.answers.get(other)) if other else (lambda ctx: None),
            none_label=kind.none_label,
        )
    if isinstance(kind, YesNo):
        first, second = (kind.no, kind.yes) if kind.no_first else (kind.yes, kind.no)
        step = yes_no_step(
            lambda ctx: with_current(ctx, field.prompt, field.key),
            first,
            second,
            on_yes=_storing(field.key, not kind.no_first),
            on_no=_storing(field.key, kind.no_first),
        )
        return replace(step, field=field.key)
    raise NoPlainStep(f"the field {field.key!r} ({type(kind).__name__}) needs a step of its own")


def _storing(key: str, value: bool) -> Callable[[Ctx], Result]:
    def answer(ctx: Ctx) -> Result:
        ctx.answers[key] = value
        return Advance()

    return answer
