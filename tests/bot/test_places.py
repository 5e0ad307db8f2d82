"""Resolving what owners type as their location to a municipality, and saying how it was taken."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from bot.normalize import normalize
from bot.places import PREFECTURES, Ambiguous, Found, NotFound, OutsidePrefecture, resolve_place
from config import DeskConfig, Municipality, load_desk_config
from storage.clock import FixedClock
from storage.database import Database
from tests.bot.chat import Chat
from tests.owner import Owner

_TO_KATAKANA = str.maketrans({chr(c): chr(c + 0x60) for c in range(ord("ぁ"), ord("ゖ") + 1)})
_HALF_WIDTH = {
    unicodedata.normalize("NFKC", base + mark): base + mark
    for base in map(chr, range(0xFF66, 0xFF9E))
    for mark in ("", "\uff9e", "\uff9f")
    if len(unicodedata.normalize("NFKC", base + mark)) == 1
}


def katakana(hiragana: str) -> str:
    return hiragana.translate(_TO_KATAKANA)


def half_width(hiragana: str) -> str:
    return "".join(_HALF_WIDTH.get(c, c) for c in katakana(hiragana))


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _found(text: str, desk: DeskConfig) -> str | None:
    place = resolve_place(text, desk)
    return place.municipality.name if isinstance(place, Found) else None


def _names_in(place: object) -> list[str]:
    assert isinstance(place, Ambiguous), place
    return [m.name for m in place.options]


def test_the_forms_helpers_write_what_owners_type() -> None:
    assert (katakana("こくぶ"), half_width("こくぶ"), half_width("たにやま")) == ("コクブ", "ｺｸﾌﾞ", "ﾀﾆﾔﾏ")
    assert full_width("1-2") == "１－２"


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
        "こくぶ",
        "コクブ",
        "ｺｸﾌﾞ",
        "はやと",
    ],
)
def test_kirishima_in_all_its_forms(desk: DeskConfig, text: str) -> None:
    assert _found(text, desk) == "霧島市"


# (what the owner types, the municipality, what the reply says it was taken as; None: nothing to say)
FOUND: list[tuple[str, str, str | None]] = [
    ("鹿児島", "鹿児島市", "鹿児島"),
    ("鹿児島市", "鹿児島市", None),
    ("鹿児島県鹿児島市山下町11-1", "鹿児島市", None),
    ("鹿児島県鹿児島市山下町１１－１", "鹿児島市", None),
    ("鹿屋", "鹿屋市", "鹿屋"),
    ("甑島", "薩摩川内市", "甑島"),
    ("名瀬", "奄美市", "名瀬"),
    ("屋久島", "屋久島町", "屋久島"),
    ("鹿児島県大島郡徳之島町亀津", "徳之島町", None),
    ("大島郡龍郷町", "龍郷町", None),
    ("鹿児島郡十島村", "十島村", None),
    ("肝属郡肝付町", "肝付町", None),
    ("南さつま市", "南さつま市", None),
    ("さつま町", "さつま町", None),
    ("松山町", "志布志市", "松山町"),
    ("トカラ列島", "十島村", "トカラ列島"),
    ("国分", "霧島市", "国分"),
    ("国分市です", "霧島市", "国分市"),
    ("隼人町見次", "霧島市", "隼人町"),
    # Districts of 鹿児島市 that owners name instead of the city
    ("谷山", "鹿児島市", "谷山"),
    ("たにやま", "鹿児島市", "たにやま"),
    ("タニヤマ", "鹿児島市", "タニヤマ"),
    ("ﾀﾆﾔﾏ", "鹿児島市", "タニヤマ"),
    ("谷山　", "鹿児島市", "谷山"),
    ("伊敷", "鹿児島市", "伊敷"),
    ("東桜島", "鹿児島市", "東桜島"),
    ("天文館", "鹿児島市", "天文館"),
    ("てんもんかん", "鹿児島市", "てんもんかん"),
    ("鹿児島中央", "鹿児島市", "鹿児島中央"),
    ("鹿児島中央駅", "鹿児島市", "鹿児島中央駅"),
    # Readings of the short names
    ("せんだい", "薩摩川内市", "せんだい"),
    ("センダイ", "薩摩川内市", "センダイ"),
    ("ｾﾝﾀﾞｲ", "薩摩川内市", "センダイ"),
    ("川内", "薩摩川内市", "川内"),
    # Variant kanji, folded for places only
    ("竜郷", "龍郷町", "竜郷"),
    ("竜郷町", "龍郷町", "竜郷町"),
    ("曾於", "曽於市", "曾於"),
    ("曾於市", "曽於市", "曾於市"),
    ("鹿兒島縣霧島市", "霧島市", None),
    ("枕﨑市", "枕崎市", "枕﨑市"),
    ("髙山町", "肝付町", "髙山町"),
    ("德之島町", "徳之島町", "德之島町"),
    ("溝邊", "霧島市", "溝邊"),
    ("穎娃", "南九州市", "穎娃"),
    ("米之津", "出水市", "米之津"),
    ("米ノ津", "出水市", "米ノ津"),
    ("こめのつ", "出水市", "こめのつ"),
    ("西ノ表市", "西之表市", "西ノ表市"),
    # Islands and districts the official list does not name
    ("中甑島", "薩摩川内市", "中甑島"),
    ("藺牟田", "薩摩川内市", "藺牟田"),
    ("東天城", "徳之島町", "東天城"),
    ("悪石島", "十島村", "悪石島"),
    ("平島", "十島村", "平島"),
    ("小宝島", "十島村", "小宝島"),
    ("吐噶喇", "十島村", "吐噶喇"),
    ("吐噶喇列島", "十島村", "吐噶喇列島"),
    ("万世", "南さつま市", "万世"),
    ("帖佐", "姶良市", "帖佐"),
    ("重富", "姶良市", "重富"),
    ("硫黄島", "三島村", "硫黄島"),
    # The official names of the towns that share a name with a place elsewhere
    ("垂水市", "垂水市", None),
    ("長島町", "長島町", None),
    ("天城町", "天城町", None),
    ("瀬戸内町", "瀬戸内町", None),
    ("奄美市", "奄美市", None),
]


@pytest.mark.parametrize(("text", "expected", "typed_as"), FOUND)
def test_found(desk: DeskConfig, text: str, expected: str, typed_as: str | None) -> None:
    place = resolve_place(text, desk)
    assert isinstance(place, Found), place
    assert (place.municipality.name, place.typed_as) == (expected, typed_as)


def test_variant_kanji_are_folded_for_places_only() -> None:
    # Commands and choices keep bot.normalize's rules: 竜 and 龍 stay two characters there.
    assert normalize("竜郷") != normalize("龍郷")
    assert normalize("曾於") != normalize("曽於")


def _short(m: Municipality) -> str:
    """The municipality's reading without 市/町/村 (し, ちょう, むら or そん)."""
    for ending in ("ちょう", "むら", "そん", "し"):
        if m.kana.endswith(ending):
            return m.kana.removesuffix(ending)
    raise AssertionError(m.kana)


@pytest.mark.parametrize("code", [m.code for m in load_desk_config().municipalities])
def test_readings_of_every_municipality_in_hiragana_katakana_and_half_width(
    desk: DeskConfig, code: str
) -> None:
    m = desk.municipality_by_code[code]
    assert m.readings and m.readings[0] == _short(m)
    for reading in (m.kana, *m.readings):
        for text in (reading, katakana(reading), half_width(reading)):
            place = resolve_place(text, desk)
            # A reading shared with a place elsewhere (おおさき, やまと) asks, offering this one.
            if isinstance(place, Ambiguous):
                assert m in place.options and reading != m.kana, (text, place)
            else:
                assert place == Found(m, typed_as=unicodedata.normalize("NFKC", text)), (text, place)


def test_all_43_have_readings(desk: DeskConfig) -> None:
    assert len(desk.municipalities) == 43
    assert all(m.readings and m.kana for m in desk.municipalities)


def test_every_municipality_resolves_by_name_and_kana(desk: DeskConfig) -> None:
    for m in desk.municipalities:
        for text in (
            m.name,
            m.kana,
            katakana(m.kana),
            half_width(m.kana),
            f"{desk.desk.prefecture}{m.name}1-1",
            f"{desk.desk.prefecture}{m.name}{full_width('1-1')}",
        ):
            place = resolve_place(text, desk)
            assert isinstance(place, Found) and place.municipality == m, text
        assert resolve_place(m.name, desk) == Found(m)  # the official name needs no word about it


def test_every_alias_and_reading_resolves_to_its_municipality(desk: DeskConfig) -> None:
    ambiguous = {normalize(p.kana) for p in desk.ambiguous_places}
    for m in desk.municipalities:
        for text in (*m.aliases, *(r for r in m.readings if r not in ambiguous)):
            assert resolve_place(text, desk) == Found(m, typed_as=text), text


def test_every_ambiguous_place_asks(desk: DeskConfig) -> None:
    for place in desk.ambiguous_places:
        for text in filter(None, (place.name, place.kana)):
            result = resolve_place(text, desk)
            assert isinstance(result, Ambiguous), text
            assert [m.code for m in result.options] == list(place.municipalities)
            assert result.outside == place.outside


def test_tokunoshima_is_three_towns(desk: DeskConfig) -> None:
    place = resolve_place("徳之島", desk)
    assert _names_in(place) == ["徳之島町", "天城町", "伊仙町"]
    assert isinstance(place, Ambiguous) and place.outside is None
    assert _found("徳之島町", desk) == "徳之島町"


AMAMI_ISLANDS = [
    "奄美市",
    "大和村",
    "宇検村",
    "瀬戸内町",
    "龍郷町",
    "喜界町",
    "徳之島町",
    "天城町",
    "伊仙町",
    "和泊町",
    "知名町",
    "与論町",
]
AMAMI_OSHIMA = ["奄美市", "大和村", "宇検村", "瀬戸内町", "龍郷町"]

# (what the owner types, the towns offered in order, the 県外 option)
ASKS: list[tuple[str, list[str], str | None]] = [
    ("松山", ["志布志市"], "愛媛県松山市"),
    ("大崎", ["大崎町"], "宮城県大崎市"),
    ("おおさき", ["大崎町"], "宮城県大崎市"),
    ("東郷町", ["薩摩川内市"], "愛知県東郷町"),
    ("吉田町", ["鹿児島市"], "静岡県吉田町など"),
    ("種子島", ["西之表市", "中種子町", "南種子町"], None),
    # 奄美 is the city as often as the islands: the city first, then every town of the islands.
    ("奄美", AMAMI_ISLANDS, None),
    ("あまみ", AMAMI_ISLANDS, None),
    ("アマミ", AMAMI_ISLANDS, None),
    # 大島 is the island, 奄美大島: its five municipalities; the county is every town but 奄美市.
    ("大島", AMAMI_OSHIMA, "東京都大島町など"),
    ("奄美大島", AMAMI_OSHIMA, None),
    ("大島郡", AMAMI_ISLANDS[1:], None),
    ("鹿児島県大島郡", AMAMI_ISLANDS[1:], None),
    ("鹿児島郡", ["三島村", "十島村"], None),
    ("吉野", ["鹿児島市"], "奈良県吉野町など"),
    ("吉野町", ["鹿児島市"], "奈良県吉野町など"),
    ("えらぶ", ["和泊町", "知名町", "屋久島町"], None),
    ("エラブ", ["和泊町", "知名町", "屋久島町"], None),
    ("永良部", ["和泊町", "知名町", "屋久島町"], None),
    ("中之島", ["十島村"], "大阪市北区中之島など"),
    ("中ノ島", ["十島村"], "大阪市北区中之島など"),
    ("長島", ["長島町"], "三重県桑名市長島町など"),
    ("垂水", ["垂水市"], "神戸市垂水区"),
    ("天城", ["天城町"], "静岡県伊豆市天城など"),
    ("あまぎ", ["天城町"], "静岡県伊豆市天城など"),
    # A former town with 市/町/村 that is a municipality of another prefecture
    ("瀬戸内市", ["瀬戸内町"], "岡山県瀬戸内市"),
    ("大口町", ["伊佐市"], "愛知県大口町"),
    ("川内村", ["薩摩川内市"], "福島県川内村"),
    ("鶴田町", ["さつま町"], "青森県鶴田町"),
    ("川辺町", ["南九州市"], "岐阜県川辺町"),
    ("瀬戸内市牛窓町牛窓1-1", ["瀬戸内町"], "岡山県瀬戸内市"),
]


@pytest.mark.parametrize(("text", "towns", "outside"), ASKS)
def test_ambiguous(desk: DeskConfig, text: str, towns: list[str], outside: str | None) -> None:
    place = resolve_place(text, desk)
    assert _names_in(place) == towns
    assert isinstance(place, Ambiguous) and place.outside == outside


def test_every_outside_homonym_asks_with_the_outside_option(desk: DeskConfig) -> None:
    assert desk.outside_homonyms
    for name, prefecture in desk.outside_homonyms.items():
        place = resolve_place(name, desk)
        assert isinstance(place, Ambiguous) and place.outside == prefecture + name, name
        assert len(place.options) == 1, name
        # With its prefecture it is outside; the town here is found by its own name.
        assert resolve_place(prefecture + name, desk) == OutsidePrefecture(prefecture)
        assert resolve_place(place.options[0].name, desk) == Found(place.options[0])


NATIONAL_LIST = Path(__file__).with_name("japan_municipalities.txt")
# Former towns that owners here name without a suffix, though a municipality elsewhere has that name with one:
# they stay the towns here, and the reply says how the name was taken.
KEPT_BARE = {
    "川内": "薩摩川内市",
    "大口": "伊佐市",
    "瀬戸内": "瀬戸内町",
    "鶴田": "さつま町",
    "川辺": "南九州市",
}


def test_no_municipality_of_another_prefecture_is_taken_for_a_town_here(desk: DeskConfig) -> None:
    """The general rule behind outside_homonyms: every name of the national list outside the prefecture, with
    and without its suffix, is outside or asks with a 県外 option (an alias added later is checked too)."""
    lines = [line.split() for line in NATIONAL_LIST.read_text(encoding="utf-8").splitlines()]
    names = [(p, n) for p, n in (line for line in lines if line[0] != "#") if p != desk.desk.prefecture]
    assert len(names) == 1741 - len(desk.municipalities)
    taken: dict[str, str] = {}
    for prefecture, name in names:
        assert resolve_place(prefecture + name, desk) == OutsidePrefecture(prefecture), name
        for text in {name, name[:-1]} if len(name) > 2 else {name}:
            place = resolve_place(text, desk)
            if isinstance(place, Found) or (isinstance(place, Ambiguous) and not place.outside):
                taken[text] = place.municipality.name if isinstance(place, Found) else "?"
    assert taken == KEPT_BARE


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
        ("岡山県瀬戸内市", "岡山県"),
        ("福島県双葉郡川内村", "福島県"),
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
    without_homonyms = desk.model_copy(update={"outside_homonyms": {}})
    assert _found("川内村", without_homonyms) == "薩摩川内市"


# The municipality step of the intake
@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def to_place(chat: Chat) -> None:
    Owner(chat).walk_to(Step.MUNICIPALITY)
    assert texts.ASK_MUNICIPALITY in chat.text


def test_the_municipality_step_says_what_a_name_was_taken_as(chat: Chat) -> None:
    to_place(chat)
    chat.say("国分")
    assert chat.replies[0].text == "国分 → 霧島市 としてお受けしました。"
    assert texts.ASK_EMPLOYEES in chat.replies[1].text
    chat.say("戻る")
    assert texts.ASK_MUNICIPALITY in chat.text and "霧島市" in chat.text
    chat.say("ｾﾝﾀﾞｲ")
    assert chat.replies[0].text == "センダイ → 薩摩川内市 としてお受けしました。"
    chat.say("戻る")
    chat.say("鹿児島県霧島市国分中央3-45-1")  # the official name: nothing to say about it
    assert len(chat.replies) == 1 and texts.ASK_EMPLOYEES in chat.text and "→" not in chat.text


def test_a_name_of_another_prefecture_asks_with_the_outside_option(chat: Chat, desk: DeskConfig) -> None:
    to_place(chat)
    chat.say("瀬戸内市")
    assert texts.ASK_AMBIGUOUS.format(name="瀬戸内市") in chat.text
    assert [b.label for b in chat.buttons()] == ["瀬戸内町", "県外（岡山県瀬戸内市）"]
    chat.tap("県外（岡山県瀬戸内市）")
    assert texts.OUTSIDE_PREFECTURE.format(prefecture=desk.desk.prefecture) in chat.text
    chat.say("奄美")
    assert [b.label for b in chat.buttons()] == AMAMI_ISLANDS
    chat.tap("奄美市")
    assert texts.ASK_EMPLOYEES in chat.text and "→" not in chat.text  # a tap needs no word about it
