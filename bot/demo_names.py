"""The words of the demo data: fictitious businesses, people and what they asked, in natural Japanese.

Every name is made up from common surnames and plain words (〇〇商店, 〇〇建設); phone numbers are in the
099-000 range the shipped config uses as fictitious, e-mail addresses at example.jp.
"""

from __future__ import annotations

import random

SURNAMES = (
    "山下", "中村", "田中", "前田", "有村", "川畑", "今村", "福永", "上野", "久保", "浜田", "松元", "迫田",
    "岩切", "内村", "鮫島", "大迫", "吉留", "坂口", "竹之内", "原口", "肥後", "徳永", "永田", "宮原",
    "下園", "濵田", "新留", "白石", "東",
)  # fmt: skip
GIVEN_NAMES = (
    "一郎", "健太", "大輔", "誠", "翔太", "浩二", "直樹", "和也", "拓也", "修",
    "花子", "美穂", "由美", "恵", "さやか", "陽子", "真由美", "智子", "彩", "愛",
)  # fmt: skip
ROMAJI = ("ichiro", "kenta", "daisuke", "makoto", "shota", "koji", "naoki", "kazuya", "takuya", "osamu",
          "hanako", "miho", "yumi", "megumi", "sayaka", "yoko", "mayumi", "tomoko", "aya", "ai")  # fmt: skip
WORDS = (
    "みどり",
    "ひかり",
    "さくら",
    "あさひ",
    "つばさ",
    "なぎさ",
    "こもれび",
    "ほたる",
    "やまびこ",
    "しらさぎ",
)

# {s}: a surname, {w}: a plain word. By JSIC division; the last entries double as sole traders' trade names.
COMPANY_PATTERNS: dict[str, tuple[str, ...]] = {
    "A": ("{s}農園", "有限会社{s}ファーム", "{w}茶園", "{s}牧場"),
    "B": ("{s}水産", "有限会社{w}水産", "{s}養殖"),
    "C": ("{s}砕石", "株式会社{s}砂利"),
    "D": ("{s}建設", "有限会社{s}工務店", "株式会社{s}組", "{w}リフォーム"),
    "E": ("株式会社{s}製作所", "{s}食品", "{w}酒造", "有限会社{s}鉄工所", "{s}製菓"),
    "F": ("{s}設備工業", "株式会社{w}エネルギー"),
    "G": ("株式会社{w}システム", "{s}ソフト開発", "{w}ネットワークス"),
    "H": ("{s}運送", "株式会社{w}物流", "{s}タクシー"),
    "I": ("{s}商店", "株式会社{s}商事", "{w}ストア", "{s}酒店", "{s}金物店"),
    "J": ("{s}保険事務所", "株式会社{w}保険サービス"),
    "K": ("{s}不動産", "株式会社{w}リース"),
    "L": ("{s}税理士事務所", "{s}設計事務所", "{s}行政書士事務所", "{w}デザイン室"),
    "M": ("旅館{w}", "{s}食堂", "カフェ{w}", "居酒屋{w}", "民宿{s}"),
    "N": ("美容室{w}", "{s}クリーニング", "理容{s}", "{w}写真館"),
    "O": ("{w}学習塾", "{s}書道教室", "{w}英会話スクール"),
    "P": ("{s}歯科医院", "デイサービス{w}", "{s}整骨院", "訪問看護ステーション{w}"),
    "Q": ("{w}協同組合",),
    "R": ("{s}ビルサービス", "株式会社{w}警備", "{s}自動車整備"),
    "T": ("{s}事務所", "{w}企画"),
}
VENDOR_PATTERNS = ("株式会社{w}システム", "{s}ソリューションズ", "{w}ITサービス", "株式会社{s}情報")

DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "dx_strategy": ("何から手をつければよいか分からないので、相談に乗ってほしいです。",
                    "社内のIT化の進め方を一緒に考えてほしい。"),
    "efficiency": ("会計ソフトをクラウドに切り替えたいが、どれを選べばよいか分からない。",
                   "勤怠管理を紙からシステムにしたいです。", "受発注をFAXでやっていて手間がかかっている。"),
    "cloud_tools": ("社内の情報共有にグループウェアを入れたい。", "テレワークの環境を整えたいです。"),
    "ec_sales": ("ネットショップを始めて県外にも売りたい。", "通販サイトの売上が伸びないので相談したい。"),
    "web_sns": ("ホームページが古くなったので作り直したい。", "インスタグラムで集客する方法を知りたい。"),
    "cashless": ("キャッシュレス決済を導入したい。", "予約システムを入れて電話対応を減らしたい。"),
    "security": ("ウイルス対策やバックアップをどうすればよいか知りたい。", "個人情報の管理方法を見直したい。"),
    "data_ai": ("生成AIを業務に使えないか相談したい。", "売上データを分析して仕入れに活かしたい。"),
    "manufacturing_dx": ("製造現場の記録を紙からタブレットにしたい。", "センサーで設備の稼働を見える化したい。"),
    "subsidy": ("IT導入に使える補助金を知りたい。", "補助金の申請の進め方を相談したい。"),
    "hr_skills": ("社員向けのパソコン研修をしたい。", "デジタルに強い人材を育てたい。"),
    "finance": ("システム導入の資金をどう調達するか相談したい。",),
    "vendor_select": ("ベンダーから見積をもらったが妥当か分からない。", "導入したシステムがうまく動かない。"),
    "other": ("事業承継を見据えて業務を整理したい。", "創業したばかりで経営全般を相談したい。"),
}  # fmt: skip
SUMMARIES = (
    "現状の業務の流れを伺い、課題を整理した。",
    "候補となるツールを3つ紹介し、費用と操作性を比較した。",
    "導入の手順と社内での進め方を助言した。",
    "補助金の要件と申請の流れを説明した。",
    "現地で作業の様子を確認し、改善案を提案した。",
)
NEXT_ACTIONS = (
    "見積の比較結果を確認する",
    "試用の感想を伺う",
    "申請書の下書きを確認する",
    "次回は現地で確認する",
)
SURVEY_COMMENTS = ("とても分かりやすかったです。", "具体的な進め方が分かり助かりました。", "また相談したいです。",
                   "もう少し時間がほしかったです。", "資料をいただけると助かります。")  # fmt: skip

# What the intake's log holds, in order: the bot's question, then what the owner answered (None: the
# answer is the consultation's own, filled in by the caller).
INTAKE_STEPS = (
    ("ご相談の受付を始めます。個人情報の取り扱いをご確認ください。", "同意する"),
    ("会社名・屋号を教えてください。", None),
    ("業種をお選びください。", None),
    ("所在地の市町村をお選びください。", None),
    ("従業員数をお選びください。", None),
    ("ご相談の内容に近いものをお選びください。", None),
    ("ご相談の内容を具体的にお書きください。", None),
    ("ご希望の相談方法をお選びください。", None),
    ("ご担当者のお名前を教えてください。", None),
    ("内容をご確認ください。この内容で送信してよろしいですか。", "送信する"),
)
SUBMITTED_REPLY = "ご相談を受け付けました。受付番号は {reference} です。"
CONFIRMED_PUSH = "ご予約が確定しました（受付番号 {reference}）。当日お待ちしております。"
DECLINED_PUSH = "申し訳ありません。今回のお申し込み（受付番号 {reference}）はお受けできませんでした。"
PROPOSAL_PUSH = "担当者から別の日時のご提案です（受付番号 {reference}）。ご都合のよい日時をお選びください。"
PROPOSAL_ACCEPTED_REPLY = "ご予約が確定しました。ありがとうございます。"
CONSENT_PUSH = "ご紹介先にお客さまの情報をお伝えしてよろしいですか（受付番号 {reference}）。"
CONSENT_REPLY = "ご回答ありがとうございました。"
SURVEY_PUSH = "先日のご相談はいかがでしたか。5段階でお答えください。"
SURVEY_COMMENT_PROMPT = "ありがとうございます。ご意見があればお書きください。"
SURVEY_THANKS = "ご回答ありがとうございました。"


def person(rng: random.Random) -> tuple[str, str]:
    """A fictitious person's name and the romaji of the given name (for an e-mail address)."""
    index = rng.randrange(len(GIVEN_NAMES))
    return f"{rng.choice(SURNAMES)} {GIVEN_NAMES[index]}", ROMAJI[index]


def company_name(rng: random.Random, industry: str) -> str:
    pattern = rng.choice(COMPANY_PATTERNS.get(industry, COMPANY_PATTERNS["T"]))
    return pattern.format(s=rng.choice(SURNAMES), w=rng.choice(WORDS))


def vendor_name(rng: random.Random) -> str:
    return rng.choice(VENDOR_PATTERNS).format(s=rng.choice(SURNAMES), w=rng.choice(WORDS))


def phone(rng: random.Random) -> str:
    return f"099-000-{rng.randrange(10000):04d}"


def email(rng: random.Random, romaji: str) -> str:
    return f"{romaji}{rng.randrange(100, 1000)}@example.jp"


def description(rng: random.Random, category: str) -> str:
    return rng.choice(DESCRIPTIONS.get(category, DESCRIPTIONS["other"]))
