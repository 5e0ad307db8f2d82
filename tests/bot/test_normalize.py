"""Folding typed text, matching it to choices, and telling emoji-only messages apart."""

from __future__ import annotations

import pytest

from bot.normalize import is_emoji_only, match_choice, normalize
from config import Choice, DeskConfig

FRUITS = (
    Choice(id="apple", label="りんご", name="りんご（青森産）", aliases=("アップル",)),
    Choice(id="grape", label="ぶどう", name="ぶどう（巨峰）"),
    Choice(id="grapefruit", label="グレープフルーツ", name="グレープフルーツ"),
)


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("ｷﾘｼﾏ", "きりしま"),
        ("キリシマ", "きりしま"),
        ("ＡＢＣ１２３", "abc123"),
        (" 霧島 市\u3000", "霧島市"),
        ("霧島・姶良、伊佐。", "霧島姶良伊佐"),
        ("霧島市です。", "霧島市"),
        ("です", "です"),
        ("1〜5人", "1~5人"),
        ("1～5人", "1~5人"),
        ("ヶ丘", "ヶ丘"),
        ("", ""),
    ],
)
def test_normalize(typed: str, folded: str) -> None:
    assert normalize(typed) == folded


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("りんご", "apple"),
        ("リンゴ", "apple"),
        ("りんご（青森産）", "apple"),
        ("apple", "apple"),
        ("APPLE", "apple"),
        ("あっぷる", "apple"),
        ("巨峰", "grape"),
        ("ぶどう", "grape"),  # exact beats the containment in グレープフルーツ's neighbours
        ("グレープ", "grapefruit"),
        ("うちはりんご農家です", "apple"),
        ("ぶ", None),
        ("ー", None),
        ("", None),
        ("みかん", None),
    ],
)
def test_match_choice(typed: str, expected: str | None) -> None:
    chosen = match_choice(typed, FRUITS)
    assert (chosen.id if chosen else None) == expected


def test_an_input_that_fits_several_choices_matches_none() -> None:
    choices = (Choice(id="a", label="小売店", name="小売店"), Choice(id="b", label="小売業", name="小売業"))
    assert match_choice("小売", choices) is None
    assert match_choice("小売業", choices) == choices[1]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("飲食店", "M"),
        ("小売業をしています", "I"),
        ("農協", "Q"),
        ("サービス", None),
        ("e", "E"),
        ("その他", "T"),
    ],
)
def test_match_choice_on_the_shipped_industries(desk: DeskConfig, typed: str, expected: str | None) -> None:
    chosen = match_choice(typed, desk.industries)
    assert (chosen.id if chosen else None) == expected


@pytest.mark.parametrize(("typed", "expected"), [("1～5人", "1_5"), ("6-20", None), ("301人以上", "301_")])
def test_match_choice_on_the_shipped_employee_bands(
    desk: DeskConfig, typed: str, expected: str | None
) -> None:
    chosen = match_choice(typed, desk.employee_bands)
    assert (chosen.id if chosen else None) == expected


@pytest.mark.parametrize("kind", ["industries", "categories", "employee_bands", "dx_stages", "methods"])
def test_every_shipped_label_name_and_alias_matches_its_own_choice(desk: DeskConfig, kind: str) -> None:
    choices = getattr(desk, kind)
    for choice in choices:
        for text in (choice.id, choice.label, choice.name, *choice.aliases):
            assert match_choice(text, choices) == choice, (kind, text)


@pytest.mark.parametrize("text", ["😀", "👍🏻", "👨‍👩‍👧", "1️⃣", "🇯🇵", "😀 🎉", "❤️", "🏴󠁧󠁢󠁥󠁮󠁧󠁿"])
def test_emoji_only(text: str) -> None:
    assert is_emoji_only(text)


@pytest.mark.parametrize("text", ["", "  ", "霧島市", "ok😀", "^^", "1", "(笑)", "😀です"])
def test_not_emoji_only(text: str) -> None:
    assert not is_emoji_only(text)
