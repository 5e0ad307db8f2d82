"""The shipped Kagoshima configuration and the loader's errors."""

from __future__ import annotations

import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from config import ConfigError, DeskConfig, load_desk_config
from config.desk import BUTTON_LABEL_MAX, DEFAULT_CONFIG_PATH

LIST_KINDS = ("industries", "categories", "employee_bands", "dx_stages", "methods")
QUICK_REPLY_ITEMS = 13


@pytest.fixture(scope="module")
def shipped() -> DeskConfig:
    return load_desk_config()


def _raw() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def _write(tmp_path: Path, raw: dict[str, Any]) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_config_is_the_default_and_loads(shipped: DeskConfig) -> None:
    assert shipped.source == str(DEFAULT_CONFIG_PATH)
    assert shipped.desk.prefecture == "鹿児島県"
    assert shipped.desk.phone and shipped.desk.hours and shipped.desk.name


def test_all_43_municipalities_19_cities_20_towns_4_villages(shipped: DeskConfig) -> None:
    assert len(shipped.municipalities) == 43
    assert Counter(m.name[-1] for m in shipped.municipalities) == {"市": 19, "町": 20, "村": 4}
    assert all(m.code.startswith("46") for m in shipped.municipalities)
    assert shipped.municipality_by_code["46218"].name == "霧島市"


def test_municipalities_by_region_match_the_bureaus(shipped: DeskConfig) -> None:
    assert [r.id for r in shipped.regions] == [
        "kagoshima",
        "nansatsu",
        "hokusatsu",
        "aira_isa",
        "osumi",
        "kumage",
        "oshima",
    ]
    counts = Counter(m.region for m in shipped.municipalities)
    assert counts == {
        "kagoshima": 5,
        "nansatsu": 4,
        "hokusatsu": 5,
        "aira_isa": 4,
        "osumi": 9,
        "kumage": 4,
        "oshima": 12,
    }
    assert shipped.region_by_id["kumage"].name == "熊毛支庁"


# The national list of local government codes (全国地方公共団体コード, with the check digit) for the prefecture.
OFFICIAL = """
    462012 鹿児島市 かごしまし  462039 鹿屋市 かのやし  462047 枕崎市 まくらざきし
    462063 阿久根市 あくねし  462080 出水市 いずみし  462101 指宿市 いぶすきし
    462136 西之表市 にしのおもてし  462144 垂水市 たるみずし  462152 薩摩川内市 さつませんだいし
    462161 日置市 ひおきし  462179 曽於市 そおし  462187 霧島市 きりしまし
    462195 いちき串木野市 いちきくしきのし  462209 南さつま市 みなみさつまし  462217 志布志市 しぶしし
    462225 奄美市 あまみし  462233 南九州市 みなみきゅうしゅうし  462241 伊佐市 いさし
    462250 姶良市 あいらし  463035 三島村 みしまむら  463043 十島村 としまむら
    463922 さつま町 さつまちょう  464040 長島町 ながしまちょう  464520 湧水町 ゆうすいちょう
    464686 大崎町 おおさきちょう  464821 東串良町 ひがしくしらちょう  464902 錦江町 きんこうちょう
    464911 南大隅町 みなみおおすみちょう  464929 肝付町 きもつきちょう  465011 中種子町 なかたねちょう
    465020 南種子町 みなみたねちょう  465054 屋久島町 やくしまちょう  465232 大和村 やまとそん
    465241 宇検村 うけんそん  465259 瀬戸内町 せとうちちょう  465275 龍郷町 たつごうちょう
    465291 喜界町 きかいちょう  465305 徳之島町 とくのしまちょう  465313 天城町 あまぎちょう
    465321 伊仙町 いせんちょう  465330 和泊町 わどまりちょう  465348 知名町 ちなちょう
    465356 与論町 よろんちょう
"""


def test_codes_names_and_readings_are_the_official_ones(shipped: DeskConfig) -> None:
    words = OFFICIAL.split()
    official = {
        code: (name, kana) for code, name, kana in zip(words[::3], words[1::3], words[2::3], strict=True)
    }
    for code in official:  # the check digit (mod 11, weights 6 5 4 3 2) guards the table itself
        total = sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=True))
        assert (11 - total % 11) % 10 == int(code[5]), code
    assert {m.code: (m.name, m.kana) for m in shipped.municipalities} == {
        code[:5]: value for code, value in official.items()
    }


def test_kana_readings_are_hiragana(shipped: DeskConfig) -> None:
    for m in shipped.municipalities:
        for reading in (m.kana, *m.readings):
            assert all(unicodedata.name(c).startswith("HIRAGANA") for c in reading), m.name
        assert m.readings, m.name


def test_every_label_fits_a_button(shipped: DeskConfig) -> None:
    labels = [a.label for a in shipped.areas]
    labels += [c.label for kind in LIST_KINDS for c in getattr(shipped, kind)]
    labels += [m.name for m in shipped.municipalities]
    assert all(0 < len(label) <= BUTTON_LABEL_MAX for label in labels)


def test_each_area_fits_one_quick_reply_with_a_back_button(shipped: DeskConfig) -> None:
    per_area = Counter(m.area for m in shipped.municipalities)
    assert set(per_area) == {a.id for a in shipped.areas}
    assert max(per_area.values()) <= QUICK_REPLY_ITEMS - 1
    assert len(shipped.areas) <= QUICK_REPLY_ITEMS


def test_ambiguous_places_fit_a_quick_reply(shipped: DeskConfig) -> None:
    for place in shipped.ambiguous_places:
        assert place.municipalities, place.name
        assert len(place.municipalities) + (1 if place.outside else 0) <= QUICK_REPLY_ITEMS


def test_no_alias_is_claimed_twice_or_clashes_with_a_name(shipped: DeskConfig) -> None:
    owners: dict[str, set[str]] = {}
    for m in shipped.municipalities:
        for key in (m.name, *m.aliases, *m.readings):
            owners.setdefault(key, set()).add(m.code)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}
    ambiguous = {p.name for p in shipped.ambiguous_places}
    assert ambiguous.isdisjoint(owners)


def test_the_reference_lists(shipped: DeskConfig) -> None:
    industries = [c.id for c in shipped.industries]
    assert sorted(industries) == sorted(set("ABCDEFGHIJKLMNOPQRT"))
    assert industries[:4] == ["E", "D", "I", "M"] and industries[-1] == "T"
    assert shipped.choice("industries", "T").label == "その他・わからない"  # type: ignore[union-attr]
    assert all("，" in c.name for c in shipped.industries if c.id in "AIJKLMNH")
    assert [c.id for c in shipped.categories] == [
        "dx_strategy",
        "efficiency",
        "cloud_tools",
        "ec_sales",
        "web_sns",
        "cashless",
        "security",
        "data_ai",
        "manufacturing_dx",
        "subsidy",
        "hr_skills",
        "finance",
        "vendor_select",
        "other",
    ]
    assert [c.id for c in shipped.employee_bands] == [
        "none",
        "1_5",
        "6_20",
        "21_50",
        "51_100",
        "101_300",
        "301_",
    ]
    assert shipped.employee_bands[0].label == "なし（代表者のみ）"
    assert [(c.id, c.label) for c in shipped.dx_stages] == [
        ("not_started", "まだこれから"),
        ("considering", "検討中"),
        ("partial", "一部で導入済み"),
        ("active", "積極的に推進中"),
    ]
    assert [(c.id, c.name) for c in shipped.methods] == [
        ("visit_desk", "来所"),
        ("onsite", "訪問(現地)"),
        ("online", "オンライン(Web会議)"),
        ("phone", "電話"),
        ("email", "メール"),
    ]


def test_the_privacy_notice_is_short_and_says_what_it_must(shipped: DeskConfig) -> None:
    text = shipped.privacy_notice.text
    assert shipped.privacy_notice.version
    assert len(text) < 1000
    for must in ("鹿児島県", "統計", "同意", "安全", "開示", "訂正", "削除"):
        assert must in text, must


def test_the_privacy_notice_says_who_runs_the_desk_how_long_and_who_processes(shipped: DeskConfig) -> None:
    text = shipped.privacy_notice.text
    desk = shipped.desk
    assert desk.operator == "かごしまDX推進コーディネーター事業事務局"
    assert "鹿児島県（事業の実施主体）" in text and desk.operator in text  # who holds the data
    assert "保存期間" in text and "5年間" in text  # how long
    assert desk.phone in text and desk.email in text and desk.hours in text  # where to ask
    for service in ("LINE", "Slack", "カレンダー", "委託"):  # who processes it for the desk
        assert service in text, service
    assert "{" not in text and "}" not in text  # every field filled in
    assert max(len(line) for line in text.splitlines()) <= 120  # short paragraphs, for a phone
    assert shipped.privacy_notice.version == "2026-12"  # a changed notice is a new version


def test_the_notice_names_the_operator_from_the_desk_section(tmp_path: Path) -> None:
    raw = _raw()
    raw["desk"]["operator"] = "株式会社テスト運営"
    raw["privacy_notice"]["text"] = "取り扱う者：{prefecture}と{operator}（{phone}）"
    assert load_desk_config(_write(tmp_path, raw)).privacy_notice.text == (
        "取り扱う者：鹿児島県と株式会社テスト運営（099-000-0000）"
    )


def test_a_missing_key_names_the_file_and_the_key(tmp_path: Path) -> None:
    raw = _raw()
    del raw["industries"]
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError) as error:
        load_desk_config(path)
    assert str(path) in str(error.value) and "industries" in str(error.value)


def test_a_label_too_long_for_a_button_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["categories"][2]["label"] = "あ" * (BUTTON_LABEL_MAX + 1)
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError, match=r"categories\.2\.label") as error:
        load_desk_config(path)
    assert str(path) in str(error.value)


def test_a_bad_jis_code_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["municipalities"][0]["code"] = "4620"
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError, match=r"municipalities\.0\.code") as error:
        load_desk_config(path)
    assert str(path) in str(error.value)


def test_an_unknown_region_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["municipalities"][0]["region"] = "nowhere"
    path = _write(tmp_path, raw)
    with pytest.raises(
        ConfigError, match=r"municipalities\.鹿児島市\.region: unknown region 'nowhere'"
    ) as error:
        load_desk_config(path)
    assert str(path) in str(error.value)


def test_an_ambiguous_place_with_an_unknown_code_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["ambiguous_places"][0]["municipalities"] = ["46999"]
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError, match=r"ambiguous_places\.種子島: unknown municipality code '46999'"):
        load_desk_config(path)


def test_a_reading_not_in_hiragana_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["municipalities"][0]["readings"] = ["カゴシマ"]
    with pytest.raises(ConfigError, match=r"municipalities\.0\.readings: .*hiragana: 'カゴシマ'"):
        load_desk_config(_write(tmp_path, raw))


def test_an_outside_homonym_names_its_prefecture(tmp_path: Path) -> None:
    raw = _raw()
    raw["outside_homonyms"] = {"大口町": "愛知"}
    with pytest.raises(ConfigError, match=r"outside_homonyms\.大口町"):
        load_desk_config(_write(tmp_path, raw))


def test_the_ferry_islands_are_not_offered_as_a_visit(shipped: DeskConfig) -> None:
    rules = shipped.scheduling.rules
    assert rules.remote_municipalities == {"46303": "online_only", "46304": "online_only"}
    assert {shipped.municipality_by_code[c].name for c in rules.remote_municipalities} == {"三島村", "十島村"}
    assert rules.remote_policy("kagoshima", "46304") == "online_only"
    assert rules.remote_policy("kagoshima", "46201") is None
    assert rules.remote_policy("oshima", "46222") == "whole_day"


def test_a_remote_municipality_with_an_unknown_code_is_refused(tmp_path: Path) -> None:
    raw = _raw()
    raw["scheduling"]["rules"]["remote_municipalities"] = {"46999": "online_only"}
    with pytest.raises(ConfigError, match=r"remote_municipalities: unknown municipality code '46999'"):
        load_desk_config(_write(tmp_path, raw))


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("desk: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML") as error:
        load_desk_config(path)
    assert str(path) in str(error.value)


def test_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(ConfigError, match="file not found") as error:
        load_desk_config(path)
    assert str(path) in str(error.value)


def test_the_line_basic_id_of_the_contract_makes_the_add_friend_link(
    tmp_path: Path, shipped: DeskConfig
) -> None:
    assert shipped.desk.line_basic_id == "" and shipped.desk.add_friend_url is None
    raw = _raw()
    raw["desk"]["line_basic_id"] = " @123ABCDE "
    desk = load_desk_config(_write(tmp_path, raw)).desk
    assert desk.line_basic_id == "@123abcde"
    assert desk.add_friend_url == "https://line.me/R/ti/p/%40123abcde"


@pytest.mark.parametrize("value", ["123abcde", "@", "@kagoshima dx", "https://lin.ee/abc"])
def test_a_line_id_without_its_at_sign_or_with_spaces_is_refused(tmp_path: Path, value: str) -> None:
    raw = _raw()
    raw["desk"]["line_basic_id"] = value
    with pytest.raises(ConfigError, match=r"desk\.line_basic_id") as error:
        load_desk_config(_write(tmp_path, raw))
    assert "@123abcde" in str(error.value)
