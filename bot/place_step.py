"""The intake's place step: the municipality typed (a name, a former town, a district, a reading) or chosen
from an area's buttons, an ambiguous name asked again, a place outside the prefecture refused kindly."""

from __future__ import annotations

from collections.abc import Sequence

from bot import texts
from bot.messages import Action, OutMessage
from bot.normalize import is_emoji_only
from bot.places import Ambiguous, Found, NotFound, OutsidePrefecture, resolve_place
from bot.steps import Advance, Answer, Ctx, Result, Stay, with_current


def ask_municipality(ctx: Ctx, page: int = 0) -> list[OutMessage]:
    areas = tuple(ctx.button(a.label, f"area:{a.id}") for a in ctx.desk.areas)
    return [OutMessage(with_current(ctx, texts.ASK_MUNICIPALITY, "municipality"), areas)]


def _municipality_buttons(ctx: Ctx, codes: Sequence[str]) -> list[Action]:
    return [ctx.button(ctx.desk.municipality_by_code[c].name, f"muni:{c}") for c in codes]


def answer_municipality(ctx: Ctx, reply: Answer) -> Result:
    desk = ctx.desk
    value = reply.value
    if value is not None:
        if value.startswith("muni:") and value[5:] in desk.municipality_by_code:
            ctx.answers["municipality"] = value[5:]
            return Advance()
        if value.startswith("area:"):
            area = next((a for a in desk.areas if a.id == value[5:]), None)
            if area:
                codes = [m.code for m in desk.municipalities if m.area == area.id]
                actions = [*_municipality_buttons(ctx, codes), ctx.button(texts.CHOOSE_AREA_AGAIN, "areas")]
                return Stay(
                    [OutMessage(texts.ASK_MUNICIPALITY_IN_AREA.format(area=area.name), tuple(actions))]
                )
        if value == "outside":
            return Stay(
                [
                    OutMessage(
                        texts.OUTSIDE_PREFECTURE.format(prefecture=desk.desk.prefecture),
                        ask_municipality(ctx)[0].actions,
                    )
                ]
            )
        return Stay(ask_municipality(ctx))
    if is_emoji_only(reply.text):
        return Stay([OutMessage(texts.NON_TEXT), *ask_municipality(ctx)])
    place = resolve_place(reply.text, desk)
    match place:
        case Found(municipality=m, typed_as=typed):
            ctx.answers["municipality"] = m.code
            # Say how a former town, a district or a reading was taken: 「国分 → 霧島市 としてお受けしました」.
            taken = [OutMessage(texts.PLACE_TAKEN_AS.format(typed=typed, name=m.name))] if typed else []
            return Advance(taken)
        case Ambiguous(name=name, options=options, outside=outside):
            actions = _municipality_buttons(ctx, [m.code for m in options])
            if outside:
                actions.append(ctx.button(texts.OUTSIDE_OPTION.format(name=outside)[:20], "outside"))
            return Stay([OutMessage(texts.ASK_AMBIGUOUS.format(name=name), tuple(actions))])
        case OutsidePrefecture():
            return Stay(
                [
                    OutMessage(
                        texts.OUTSIDE_PREFECTURE.format(prefecture=desk.desk.prefecture),
                        ask_municipality(ctx)[0].actions,
                    )
                ]
            )
        case NotFound():
            return Stay(
                [
                    OutMessage(
                        texts.PLACE_NOT_FOUND.format(text=reply.text[:30]), ask_municipality(ctx)[0].actions
                    )
                ]
            )
    return Stay(ask_municipality(ctx))
