"""Resolves where an owner says their business is to one municipality of the desk's prefecture."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace

from bot.normalize import normalize
from config.desk import DeskConfig, Municipality


@dataclass(frozen=True)
class Found:
    """The text names exactly one municipality. `typed_as` is the part of the text that named it, as the
    owner wrote it (NFKC, without spaces), when that is not its official name: 国分 for 霧島市."""

    municipality: Municipality
    typed_as: str | None = None


@dataclass(frozen=True)
class Ambiguous:
    """The text names several municipalities, or one inside and a well-known place outside."""

    name: str
    options: tuple[Municipality, ...]
    outside: str | None = None


@dataclass(frozen=True)
class OutsidePrefecture:
    """The text names a place in another prefecture."""

    name: str


@dataclass(frozen=True)
class NotFound:
    """The text names no place we know."""


PlaceResult = Found | Ambiguous | OutsidePrefecture | NotFound

PREFECTURES: tuple[tuple[str, str], ...] = (
    ("北海道", "ほっかいどう"),
    ("青森県", "あおもり"),
    ("岩手県", "いわて"),
    ("宮城県", "みやぎ"),
    ("秋田県", "あきた"),
    ("山形県", "やまがた"),
    ("福島県", "ふくしま"),
    ("茨城県", "いばらき"),
    ("栃木県", "とちぎ"),
    ("群馬県", "ぐんま"),
    ("埼玉県", "さいたま"),
    ("千葉県", "ちば"),
    ("東京都", "とうきょう"),
    ("神奈川県", "かながわ"),
    ("新潟県", "にいがた"),
    ("富山県", "とやま"),
    ("石川県", "いしかわ"),
    ("福井県", "ふくい"),
    ("山梨県", "やまなし"),
    ("長野県", "ながの"),
    ("岐阜県", "ぎふ"),
    ("静岡県", "しずおか"),
    ("愛知県", "あいち"),
    ("三重県", "みえ"),
    ("滋賀県", "しが"),
    ("京都府", "きょうと"),
    ("大阪府", "おおさか"),
    ("兵庫県", "ひょうご"),
    ("奈良県", "なら"),
    ("和歌山県", "わかやま"),
    ("鳥取県", "とっとり"),
    ("島根県", "しまね"),
    ("岡山県", "おかやま"),
    ("広島県", "ひろしま"),
    ("山口県", "やまぐち"),
    ("徳島県", "とくしま"),
    ("香川県", "かがわ"),
    ("愛媛県", "えひめ"),
    ("高知県", "こうち"),
    ("福岡県", "ふくおか"),
    ("佐賀県", "さが"),
    ("長崎県", "ながさき"),
    ("熊本県", "くまもと"),
    ("大分県", "おおいた"),
    ("宮崎県", "みやざき"),
    ("鹿児島県", "かごしま"),
    ("沖縄県", "おきなわ"),
)

# Designated cities, prefectural capitals, and the desk's neighbours across the border.
BIG_CITIES: dict[str, str] = {
    "福岡": "福岡県",
    "熊本": "熊本県",
    "宮崎": "宮崎県",
    "大分": "大分県",
    "長崎": "長崎県",
    "佐賀": "佐賀県",
    "大阪": "大阪府",
    "京都": "京都府",
    "広島": "広島県",
    "岡山": "岡山県",
    "静岡": "静岡県",
    "新潟": "新潟県",
    "千葉": "千葉県",
    "札幌": "北海道",
    "盛岡": "岩手県",
    "仙台": "宮城県",
    "水戸": "茨城県",
    "宇都宮": "栃木県",
    "前橋": "群馬県",
    "さいたま": "埼玉県",
    "横浜": "神奈川県",
    "川崎": "神奈川県",
    "相模原": "神奈川県",
    "金沢": "石川県",
    "甲府": "山梨県",
    "浜松": "静岡県",
    "名古屋": "愛知県",
    "津": "三重県",
    "大津": "滋賀県",
    "堺": "大阪府",
    "神戸": "兵庫県",
    "松江": "島根県",
    "高松": "香川県",
    "北九州": "福岡県",
    "久留米": "福岡県",
    "佐世保": "長崎県",
    "那覇": "沖縄県",
    "人吉": "熊本県",
    "水俣": "熊本県",
    "八代": "熊本県",
    "天草": "熊本県",
    "都城": "宮崎県",
    "えびの": "宮崎県",
    "延岡": "宮崎県",
}

# Variant forms folded when matching places only (commands and choices keep bot.normalize's rules):
# 竜郷 is 龍郷, 曾於 is 曽於, 米之津 and 米ノ津 are one district.
_VARIANTS = str.maketrans(
    {
        "竜": "龍",
        "曾": "曽",
        "嶋": "島",
        "嶌": "島",
        "邉": "辺",
        "邊": "辺",
        "\ufa11": "崎",  # 﨑
        "嵜": "崎",
        "碕": "崎",
        "髙": "高",
        "德": "徳",
        "櫻": "桜",
        "國": "国",
        "兒": "児",
        "與": "与",
        "澤": "沢",
        "濱": "浜",
        "瀨": "瀬",
        "萬": "万",
        "龜": "亀",
        "鄕": "郷",
        "冨": "富",
        "穎": "頴",
        "廣": "広",
        "縣": "県",
        "驛": "駅",
        "之": "の",
        "ヶ": "け",
    }
)
_SUFFIXES = "市町村"
_KANA_SUFFIXES = {"市": ("し",), "町": ("ちょう", "まち"), "村": ("むら", "そん")}
_POSTAL_CODE = re.compile(r"^〒?\d{3}[-−‐ー]?\d{4}")
_COUNTY = re.compile(r"^[^郡]{1,4}郡(?=.)")
_MIN_KEY = 2
_OUTSIDE_WORD = "県外"


@dataclass(frozen=True)
class _PlaceIndex:
    home: str
    exact: dict[str, PlaceResult]
    without_suffix: dict[str, PlaceResult]
    prefixes: dict[str, PlaceResult]
    longest_prefix: int
    full_names: tuple[tuple[str, Municipality], ...]


def _key(text: str) -> str:
    """The text as the index compares it: normalized, then variant kanji folded (one character for one)."""
    return normalize(text).translate(_VARIANTS)


def _layer(pairs: Iterable[tuple[str, PlaceResult]]) -> dict[str, PlaceResult]:
    """Collects keys of one priority; two municipalities claiming one key make it ambiguous."""
    layer: dict[str, PlaceResult] = {}
    for raw_key, result in pairs:
        key = _key(raw_key)
        if not key:
            continue
        seen = layer.get(key)
        if seen is None or seen == result:
            layer[key] = result
        elif isinstance(seen, Found | Ambiguous) and isinstance(result, Found):
            options = seen.options if isinstance(seen, Ambiguous) else (seen.municipality,)
            if result.municipality not in options:
                layer[key] = Ambiguous(raw_key, (*options, result.municipality))
    return layer


def _merge(*layers: dict[str, PlaceResult]) -> dict[str, PlaceResult]:
    """Merges layers; a key keeps the result of the first layer that has it."""
    merged: dict[str, PlaceResult] = {}
    for layer in layers:
        for key, result in layer.items():
            merged.setdefault(key, result)
    return merged


def _short_names(m: Municipality) -> list[str]:
    suffix = m.name[-1]
    if suffix not in _SUFFIXES or len(m.name) <= _MIN_KEY:
        return []
    names = [m.name[:-1]]
    names += [m.kana.removesuffix(k) for k in _KANA_SUFFIXES[suffix] if m.kana.endswith(k)][:1]
    return names


def _outside_city(outside: str) -> str | None:
    """Returns the 市 an `outside` text names ("愛媛県松山市" → "松山市"); never a 町 or 村, which may be a
    former municipality of the same name here (愛知県東郷町, 薩摩川内市の旧東郷町)."""
    for prefecture, _ in PREFECTURES:
        city = outside.removeprefix(prefecture)
        if city != outside and city.endswith("市") and "など" not in city:
            return city
    return None


def _bare(prefecture: str) -> str:
    return prefecture if prefecture == "北海道" else prefecture[:-1]


def _homonyms(desk: DeskConfig, *suffixed: dict[str, PlaceResult]) -> dict[str, PlaceResult]:
    """A name that the suffixed layers would take for a former town here but that is a municipality of
    another prefecture (川内村 for 福島県川内村, not 薩摩川内市's 川内) asks, with that place as the 県外 option."""
    pairs: list[tuple[str, PlaceResult]] = []
    for name, prefecture in desk.outside_homonyms.items():
        here = next((layer[_key(name)] for layer in suffixed if _key(name) in layer), None)
        outside = prefecture + name
        match here:
            case Found(municipality=m):
                pairs.append((name, Ambiguous(name, (m,), outside)))
            case Ambiguous(options=options):
                pairs.append((name, Ambiguous(name, options, outside)))
            case _:
                pairs.append((name, OutsidePrefecture(outside)))
    return _layer(pairs)


def _build_index(desk: DeskConfig) -> _PlaceIndex:
    home = desk.desk.prefecture
    munis = desk.municipalities
    places = [
        (p, Ambiguous(p.name, tuple(desk.municipality_by_code[c] for c in p.municipalities), p.outside))
        for p in desk.ambiguous_places
    ]
    outside_cities = [(p.outside, _outside_city(p.outside)) for p, _ in places if p.outside]
    prefectures = [(name, kana) for name, kana in PREFECTURES if name != home]

    full_names = _layer((m.name, Found(m)) for m in munis)
    kana_names = _layer((m.kana, Found(m)) for m in munis)
    outside_named = _layer(
        [(city, OutsidePrefecture(full)) for full, city in outside_cities if city]
        + [(home + "外", OutsidePrefecture(_OUTSIDE_WORD)), (_OUTSIDE_WORD, OutsidePrefecture(_OUTSIDE_WORD))]
    )
    ambiguous = _layer((key, a) for p, a in places for key in (p.name, p.kana))
    aliases = _layer((alias, Found(m)) for m in munis for alias in m.aliases)
    readings = _layer((reading, Found(m)) for m in munis for reading in m.readings)
    short_names = _layer((name, Found(m)) for m in munis for name in _short_names(m))
    prefecture_names = _layer(
        (key, OutsidePrefecture(name)) for name, _ in prefectures for key in (name, _bare(name))
    )
    prefecture_kana = _layer((kana, OutsidePrefecture(name)) for name, kana in prefectures)
    city_names = _layer((city + "市", OutsidePrefecture(p + city + "市")) for city, p in BIG_CITIES.items())
    bare_cities = _layer(
        (city, OutsidePrefecture(p + city + "市")) for city, p in BIG_CITIES.items() if len(city) >= _MIN_KEY
    )

    # An address starts with a full name, a former town with its 市/町/村, or another prefecture.
    former_towns = {k: r for k, r in aliases.items() if k[-1] in _SUFFIXES}
    aliases_with_suffix = _layer(
        (k + s, r) for k, r in aliases.items() if k[-1] not in _SUFFIXES for s in _SUFFIXES
    )
    ambiguous_with_suffix = _layer((k + s, r) for k, r in ambiguous.items() for s in _SUFFIXES)
    homonyms = _homonyms(desk, former_towns, aliases_with_suffix, ambiguous_with_suffix)
    prefixes = _merge(
        full_names,
        homonyms,
        former_towns,
        outside_named,
        aliases_with_suffix,
        ambiguous_with_suffix,
        city_names,
        prefecture_names,
    )
    prefixes = {k: r for k, r in prefixes.items() if len(k) >= _MIN_KEY}
    return _PlaceIndex(
        home=_key(home),
        exact=_merge(
            full_names,
            kana_names,
            homonyms,
            outside_named,
            ambiguous,
            aliases,
            short_names,
            prefecture_names,
            prefecture_kana,
            readings,
            city_names,
            bare_cities,
        ),
        without_suffix=_merge(ambiguous, aliases),
        prefixes=prefixes,
        longest_prefix=max(map(len, prefixes), default=0),
        full_names=tuple((_key(m.name), m) for m in munis),
    )


_INDEXES: dict[int, tuple[DeskConfig, _PlaceIndex]] = {}
_INDEXES_KEPT = 8


def _index_for(desk: DeskConfig) -> _PlaceIndex:
    """Returns the desk's index, built once per DeskConfig object (it is frozen but not hashable)."""
    entry = _INDEXES.get(id(desk))
    if entry is not None and entry[0] is desk:
        return entry[1]
    index = _build_index(desk)
    while len(_INDEXES) >= _INDEXES_KEPT:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[id(desk)] = (desk, index)
    return index


def _by_prefix(text: str, index: _PlaceIndex) -> tuple[PlaceResult, int] | None:
    for length in range(min(len(text), index.longest_prefix), _MIN_KEY - 1, -1):
        found = index.prefixes.get(text[:length])
        if found is not None:
            return found, length
    return None


def _by_containment(text: str, index: _PlaceIndex) -> PlaceResult | None:
    named = {m.code: m for name, m in index.full_names if name in text}
    if len(named) == 1:
        return Found(next(iter(named.values())))
    return None


def _lookup(text: str, index: _PlaceIndex) -> tuple[PlaceResult, int] | None:
    """The result for the text and how many of its first characters named it."""
    if text in index.exact:
        return index.exact[text], len(text)
    if len(text) > 1 and text[-1] in _SUFFIXES and text[:-1] in index.without_suffix:
        return index.without_suffix[text[:-1]], len(text)
    return _by_prefix(text, index)


def _as_written(text: str, said: str, start: int, length: int) -> str:
    """The characters of `said[start:start + length]` as the owner wrote them (katakana stays katakana),
    or as normalized when they cannot be lined up."""
    kept = [(folded, c) for c in unicodedata.normalize("NFKC", text) if len(folded := normalize(c)) == 1]
    words = said[start : start + length]
    offset = len(normalize(text)) - len(said) + start  # past a postal code
    if "".join(f for f, _ in kept[offset : offset + length]) == words:
        return "".join(c for _, c in kept[offset : offset + length])
    return words


def _taken_as(result: PlaceResult, text: str, said: str, start: int, length: int) -> PlaceResult:
    if isinstance(result, Found) and said[start : start + length] != normalize(result.municipality.name):
        return replace(result, typed_as=_as_written(text, said, start, length))
    return result


def resolve_place(text: str, desk: DeskConfig) -> PlaceResult:
    """Finds the municipality a name, a kana reading, a former town, an island or an address refers to."""
    index = _index_for(desk)
    said = _POSTAL_CODE.sub("", normalize(text), count=1)
    key = said.translate(_VARIANTS)  # as long as `said`, character for character
    if not key:
        return NotFound()
    if key in index.exact:
        return _taken_as(index.exact[key], text, said, 0, len(said))
    rest = key.removeprefix(index.home)
    if not rest:
        return NotFound()
    for candidate in dict.fromkeys((rest, _COUNTY.sub("", rest, count=1))):
        found = _lookup(candidate, index)
        if found is not None:
            result, length = found
            start = len(key) - len(candidate)  # both are what is left after removing a prefix
            return _taken_as(result, text, said, start, length)
    return _by_containment(rest, index) or NotFound()
