"""Resolving what owners type as their location to a municipality."""

from __future__ import annotations

import pytest

from bot.places import PREFECTURES, Ambiguous, Found, NotFound, OutsidePrefecture, resolve_place
from config import DeskConfig


def _found(text: str, desk: DeskConfig) -> str | None:
    place = resolve_place(text, desk)
    return place.municipality.name if isinstance(place, Found) else None


@pytest.mark.parametrize(
    "text",
    [
        "霧島",
        "国分",
        "霧島市",
        "キリシマ",
        "ｷﾘｼﾏ",
        "きりしま",
        "きりしまし",
        "霧島市です",
        "国分市",
        "隼人町",
        "霧島 市",
        "鹿児島県霧島市",
        "鹿児島県霧島市国分中央3丁目45-1",
        "〒899-4332 鹿児島県霧島市国分中央",
        "霧島市隼人町見次",
        "住所は霧島市です",
    ],
)
def test_kirishima_in_all_its_forms(desk: DeskConfig, text: str) -> None:
    assert _found(text, desk) == "霧島市"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("鹿児島", "鹿児島市"),
        ("鹿児島市", "鹿児島市"),
        ("鹿児島県鹿児島市山下町11-1", "鹿児島市"),
        ("鹿屋", "鹿屋市"),
        ("甑島", "薩摩川内市"),
        ("奄美", "奄美市"),
        ("名瀬", "奄美市"),
        ("屋久島", "屋久島町"),
        ("鹿児島県大島郡徳之島町亀津", "徳之島町"),
        ("鹿児島郡十島村", "十島村"),
        ("肝属郡肝付町", "肝付町"),
        ("南さつま市", "南さつま市"),
        ("さつま町", "さつま町"),
        ("松山町", "志布志市"),
        ("トカラ列島", "十島村"),
    ],
)
def test_found(desk: DeskConfig, text: str, expected: str) -> None:
    assert _found(text, desk) == expected


def test_every_municipality_resolves_by_name_and_kana(desk: DeskConfig) -> None:
    katakana = str.maketrans({chr(c): chr(c + 0x60) for c in range(ord("ぁ"), ord("ゔ") + 1)})
    for m in desk.municipalities:
        for text in (m.name, m.kana, m.kana.translate(katakana), f"{desk.desk.prefecture}{m.name}1-1"):
            assert resolve_place(text, desk) == Found(m), text


def test_every_alias_resolves_to_its_municipality(desk: DeskConfig) -> None:
    for m in desk.municipalities:
        for alias in m.aliases:
            assert resolve_place(alias, desk) == Found(m), alias


def test_every_ambiguous_place_asks(desk: DeskConfig) -> None:
    for place in desk.ambiguous_places:
        for text in filter(None, (place.name, place.kana)):
            result = resolve_place(text, desk)
            assert isinstance(result, Ambiguous), text
            assert [m.code for m in result.options] == list(place.municipalities)
            assert result.outside == place.outside


def test_tokunoshima_is_three_towns(desk: DeskConfig) -> None:
    place = resolve_place("徳之島", desk)
    assert isinstance(place, Ambiguous)
    assert [m.name for m in place.options] == ["徳之島町", "天城町", "伊仙町"]
    assert place.outside is None
    assert _found("徳之島町", desk) == "徳之島町"


@pytest.mark.parametrize(
    ("text", "towns", "outside"),
    [
        ("松山", ["志布志市"], "愛媛県松山市"),
        ("大崎", ["大崎町"], "宮城県大崎市"),
        ("おおさき", ["大崎町"], "宮城県大崎市"),
        ("東郷町", ["薩摩川内市"], "愛知県東郷町"),
        ("吉田町", ["鹿児島市"], "静岡県吉田町など"),
        ("種子島", ["西之表市", "中種子町", "南種子町"], None),
    ],
)
def test_ambiguous(desk: DeskConfig, text: str, towns: list[str], outside: str | None) -> None:
    place = resolve_place(text, desk)
    assert isinstance(place, Ambiguous)
    assert [m.name for m in place.options] == towns
    assert place.outside == outside


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("福岡市", "福岡県福岡市"),
        ("福岡市博多区博多駅前1-1", "福岡県福岡市"),
        ("熊本県", "熊本県"),
        ("熊本", "熊本県"),
        ("宮崎県都城市", "宮崎県"),
        ("都城", "宮崎県都城市"),
        ("大阪", "大阪府"),
        ("東京都千代田区", "東京都"),
        ("北海道", "北海道"),
        ("ふくおか", "福岡県"),
        ("松山市", "愛媛県松山市"),
        ("大崎市", "宮城県大崎市"),
        ("名古屋市中区", "愛知県名古屋市"),
        ("県外", "県外"),
        ("鹿児島県外です", "県外"),
    ],
)
def test_outside_the_prefecture(desk: DeskConfig, text: str, name: str) -> None:
    assert resolve_place(text, desk) == OutsidePrefecture(name)


def test_every_other_prefecture_is_outside(desk: DeskConfig) -> None:
    for name, kana in PREFECTURES:
        if name == desk.desk.prefecture:
            continue
        bare = name if name == "北海道" else name[:-1]
        for text in (name, bare, kana, f"{name}どこか1-2-3"):
            assert resolve_place(text, desk) == OutsidePrefecture(name), text


@pytest.mark.parametrize("text", ["あいうえお", "asdf", "", "   ", "123", "鹿児島県", "国分中央", "🙂"])
def test_not_found(desk: DeskConfig, text: str) -> None:
    assert resolve_place(text, desk) == NotFound()


def test_the_index_follows_the_config(desk: DeskConfig) -> None:
    without_islands = desk.model_copy(update={"ambiguous_places": ()})
    assert _found("徳之島", without_islands) == "徳之島町"
    assert isinstance(resolve_place("徳之島", desk), Ambiguous)
