"""Every sentence the intake conversation says to an owner, in one place for review.

Polite (です・ます), short enough for a phone screen. `{…}` fields are filled by the flow.
"""

GREETING = (
    "こんにちは。{desk}です。\n"
    "ITやデジタル化のお悩みを、専門のコーディネーターが無料でご相談に応じます。\n"
    "下の「相談を申し込む」からお申し込みください。"
)
FOLLOW = (
    "友だち追加ありがとうございます。{desk}です。\n"
    "業務の効率化、ホームページやSNS、ネット販売、補助金の活用など、デジタル化のご相談を無料でお受けしています。\n"
    "「相談を申し込む」を押すと、3分ほどでお申し込みいただけます。"
)
START_BUTTON = "相談を申し込む"

CONSENT = "はじめに、個人情報の取り扱いについてご確認ください。\n\n{notice}\n\n同意いただける場合は「同意する」をお選びください。"
CONSENT_YES = "同意する"
CONSENT_NO = "同意しない"
CONSENT_DECLINED = (
    "承知しました。お申し込みは進めず、ここまでのやりとりの内容は削除しました"
    "（同意されなかったことと、やりとりの回数だけを記録しています）。\n"
    "お電話でもご相談を受け付けています。\n{desk}　{phone}\n受付時間：{hours}"
)

REUSE = "前回と同じ会社の情報を使いますか？\n\n{summary}"
REUSE_YES = "同じ情報を使う"
REUSE_NO = "新しく入力する"

ASK_COMPANY = "会社名または屋号をご入力ください。"
ASK_CONTACT_NAME = "ご担当者のお名前をご入力ください。"
ASK_INDUSTRY = "業種をお選びください。"
ASK_INDUSTRY_MORE = "業種をお選びください（続き）。"
ASK_MUNICIPALITY = (
    "事業所の所在地（市町村）をご入力ください。\n例：霧島市、国分、谷山\n"
    "下のボタンから地域をお選びいただくこともできます。"
)
ASK_MUNICIPALITY_IN_AREA = "{area}の市町村をお選びください。"
ASK_AMBIGUOUS = "「{name}」はどちらの市町村ですか？"
PLACE_TAKEN_AS = "{typed} → {name} としてお受けしました。"
OUTSIDE_PREFECTURE = (
    "申し訳ありません。この窓口は{prefecture}内の事業者さま向けです。\n"
    "{prefecture}外の方は、お近くのよろず支援拠点などにご相談ください。\n"
    "{prefecture}内の場合は、市町村名をご入力ください。"
)
PLACE_NOT_FOUND = "「{text}」が見つかりませんでした。市町村名（例：霧島市）をご入力いただくか、地域のボタンからお選びください。"
ASK_EMPLOYEES = "従業員数（代表者を除く）をお選びください。"
ASK_CATEGORY = "ご相談の分野を一つお選びください。"
ASK_CATEGORY_MORE = "ご相談の分野を一つお選びください（続き）。"
ASK_CATEGORY2 = "ほかにも関係する分野があればお選びください（なければ「特になし」）。"
NO_SECOND = "特になし"
ASK_DESCRIPTION = "ご相談したい内容を、具体的にお書きください（{limit}文字以内）。\n例：紙の注文書をやめて、受発注を効率化したい"
ASK_DX_STAGE = "デジタル化の取り組み状況に近いものをお選びください。"
ASK_METHOD = "ご希望の相談方法をお選びください。"
ASK_CONTACT = (
    "ご連絡先の電話番号かメールアドレスをご入力ください。\n"
    "両方お知らせいただく場合は、スペースか改行で区切ってご入力ください。\n例：099-123-4567 info@example.jp"
)
CONTACT_INVALID = "「{token}」は電話番号・メールアドレスとして読み取れませんでした。\n例：099-123-4567 または info@example.jp"
CONTACT_MISSING = "電話番号かメールアドレスを、少なくとも一つご入力ください。"

SUMMARY = "ご入力内容をご確認ください。\n\n{summary}\n\nこの内容で送信してよろしいですか？"
SUBMIT = "この内容で送信"
EDIT = "内容を修正する"
ASK_EDIT_FIELD = "修正する項目をお選びください。"
BACK_TO_SUMMARY = "確認画面に戻る"
EDIT_MORE = "その他の項目"
SUBMITTED = (
    "ご相談を受け付けました。ありがとうございます。\n受付番号：{reference}\n\n"
    "担当のコーディネーターから、2営業日以内に{how}ご連絡します。\n"
    "お急ぎの場合は、{phone}までお電話ください。\n受付時間：{hours}"
)
# Submitted with a time the owner chose: it is held for them, and the desk confirms it (until then provisional)
SUBMITTED_HELD = (
    "ご相談を受け付けました。ありがとうございます。\n受付番号：{reference}\n\n"
    "ご希望の日時：{when}\n"
    "この日時は仮のご予約です。担当のコーディネーターが確認して確定し、{notify}お知らせします。\n"
    "お急ぎの場合は、{phone}までお電話ください。\n受付時間：{hours}"
)
NOTIFY_BY_LINE = "このLINEで"
NOTIFY_BY_CONTACT = "ご連絡先（お電話またはメール）に"  # the web form's owners
HOW_BY_PHONE = "お電話で"
HOW_BY_EMAIL = "メールで"
HOW_EITHER = ""

SUMMARY_SECOND = "（ほか：{name}）"
# (The answers' labels, in the summary, the edit list and the web form, are the fields' in bot/fields.py.)

# What the web form says of an answer it cannot use (besides each field's own message in bot/fields.py)
FORM_EMOJI_ONLY = "文字でご入力ください。"
FORM_SAME_CHOICE = "1つ目の分野とは違う分野をお選びください。"
FORM_PHONE = "形式をご確認ください（例：099-123-4567）。"
FORM_EMAIL = "形式をご確認ください（例：info@example.jp）。"
FORM_METHOD_HELP = "来所・訪問・オンラインの場合は、次の画面でご希望の日時をお選びいただけます。"

# A company or trade name, or a sole trader known by their own name (personal data)
ASK_COMPANY_KIND = "会社名または屋号はありますか？\n個人で事業をされていて屋号がない場合は「個人で屋号なし」をお選びください。"
COMPANY_KIND_COMPANY = "法人・屋号あり"
COMPANY_KIND_SOLE = "個人で屋号なし"
ASK_OWNER_NAME = "事業主さまのお名前をご入力ください。\n（お名前は個人情報として、暗号化して保管します）"
ASK_CONTACT_NAME_SOLE = (
    "ご担当者のお名前をご入力ください。\n事業主さまご本人の場合は「事業主と同じ」をお選びください。"
)
SAME_AS_OWNER = "事業主と同じ"
SOLE_TRADER_LABEL = "事業主（個人）"
SOLE_TRADER_EDIT_LABEL = "事業主のお名前"
SOLE_TRADER_FEED = "個人事業主"

# Anywhere in the conversation
CONFIRM_CANCEL = "お申し込みの入力を中止しますか？\n中止すると、ここまでの入力内容は削除されます。"
CANCEL_YES = "中止する"
CANCEL_NO = "入力を続ける"
CANCELLED = "入力を中止しました。ここまでの入力内容は削除しました。\nまたいつでもご相談ください。"
NOT_CANCELLED = "入力を続けます。"
CANNOT_GO_BACK = "これより前の質問には戻れません。はじめから入力し直す場合は「最初から」とお送りください。"
RESTARTED = "最初から入力し直します。"
HELP = (
    "入力中はいつでも、次の言葉を送ると操作できます。\n"
    "・戻る：一つ前の質問に戻る\n・最初から：最初から入力し直す\n・やめる：入力を中止する\n"
    "ご不明な点は、{phone}までお電話ください。\n受付時間：{hours}"
)
RESUME = "前回のお申し込みが途中になっています。続きから入力しますか？"
RESUME_YES = "続きから入力する"
RESUME_NO = "最初から入力する"

CHOOSE_FROM_BUTTONS = "恐れ入りますが、下のボタンからお選びください。"
NOT_A_CHOICE = "「{text}」は選択肢にありませんでした。下のボタンからお選びください。"
NON_TEXT = "ありがとうございます。恐れ入りますが、文字でご入力いただくか、ボタンからお選びください。"
TOO_LONG = "恐れ入りますが、{limit}文字以内でお願いします（いま{length}文字です）。"
EMPTY = "恐れ入りますが、文字でご入力ください。"
STALE_BUTTON = "恐れ入りますが、そのボタンは前の質問のものです。いまの質問にお答えください。"
OLD_CONVERSATION = "恐れ入りますが、そのボタンは以前のやりとりのものです。"
ALREADY_SUBMITTED = "このお申し込みは送信済みです。新しいご相談は「相談を申し込む」からどうぞ。"
CURRENT_ANSWER = "（いまの回答：{answer}）"
NEXT_PAGE = "その他の業種"
NEXT_PAGE_CATEGORY = "その他の分野"
PREV_PAGE = "前に戻る"
CHOOSE_AREA_AGAIN = "地域を選び直す"
OUTSIDE_OPTION = "県外（{name}）"

# Meeting times (after the method, for 来所・訪問・オンライン)
ASK_SLOT = "ご都合のよい日時をお選びください（{minutes}分ほど）。\nご希望の日時がなければ「ほかの日時」からお選びいただけます。"
ASK_SLOT_WHOLE_DAY = "コーディネーターが伺える日をお選びください（島への訪問は1日がかりになります）。"
SLOTS_AROUND = "{moment}ごろの空き日時です。"
SLOT_TAKEN = "申し訳ありません。その日時はちょうど埋まりました。ほかの日時からお選びください。"
SLOT_REVIEW = (
    "ご入力内容が変わったため、お選びの日時ではご案内できなくなりました。日時をもう一度お選びください。"
)
SLOT_LAPSED = "申し訳ありません。お選びの日時が埋まってしまいました。もう一度お選びください。"
NO_SLOTS = (
    "申し訳ありません。近い日程に空きが見つかりませんでした。\n担当のコーディネーターから日程をご連絡します。"
)
NO_SLOTS_AROUND = (
    "{moment}の前後に空きが見つかりませんでした。ほかの日時をお選びいただくか、日程のご相談をお選びください。"
)
CALENDAR_UNAVAILABLE = "ただいま空き状況を確認できません。\n担当のコーディネーターから日程をご連絡します。"
ISLAND_ONLINE = (
    "島への訪問は、日程を個別にご相談しています。\n"
    "オンラインでのご相談ならすぐに日時を選べます。どちらにしますか？"
)
SWITCH_TO_ONLINE = "オンラインにする"
OTHER_TIME = "ほかの日時"
DECIDE_LATER = "日程は相談して決めたい"
NEXT = "次へ進む"
SLOT_LATER_SUMMARY = "日程は相談して決める"
PICKER_INVALID = "日時を読み取れませんでした。もう一度お選びください。"

# What a message the step cannot use is answered with, by how the step is answered
NON_TEXT_TYPED = "ありがとうございます。恐れ入りますが、文字でご入力ください。"
NON_TEXT_BUTTONS = "ありがとうございます。恐れ入りますが、下のボタンからお選びください。"
TYPE_OR_CHOOSE = "恐れ入りますが、文字でご入力いただくか、下のボタンからお選びください。"
CONSENT_AGAIN = "個人情報の取り扱いに同意いただけますか？"

# No coordinator takes the method for this category (and place)
NO_COORDINATOR_VISIT = (
    "申し訳ありません。{place}への訪問で「{category}」のご相談をお受けできるコーディネーターがおりません。"
)
NO_COORDINATOR_METHOD = (
    "申し訳ありません。「{method}」で「{category}」のご相談をお受けできるコーディネーターがおりません。"
)
NO_COORDINATOR_OTHERS = "ほかの相談方法をお選びいただくか、「日程は相談して決めたい」をお選びください。"
NO_COORDINATOR_LATER = "「日程は相談して決めたい」をお選びいただくと、担当から日程をご連絡します。"

# The menu under the chat (LINE's rich menu and the simulator's): each item's label and the text it sends
MENU_CONSULT = "相談する"
MENU_BOOKINGS = "予約確認"
MENU_INQUIRY = "お問い合わせ"
MENU_ITEMS = ((MENU_CONSULT, START_BUTTON), (MENU_BOOKINGS, MENU_BOOKINGS), (MENU_INQUIRY, MENU_INQUIRY))
INQUIRY = "{desk}へのお問い合わせは、こちらまでお気軽にどうぞ。\n電話：{phone}\n受付時間：{hours}"
INQUIRY_EMAIL = "メール：{email}"
INTAKE_UNDER_WAY = "ただいまお申し込みの入力中です。続きをご入力ください。"

# The summary of a confirmed booking in the coordinator's calendar (no personal data)
CALENDAR_SUMMARY = "窓口相談 {reference}"

# A booking's and a consultation's status in plain words (keys: bot.lifecycle's statuses)
BOOKING_STATUS_LABELS = {
    "held": "仮押さえ中",
    "requested": "受付済み・確認待ち",
    "confirmed": "確定",
    "declined": "お断り",
    "expired": "期限切れ",
    "cancelled": "キャンセル",
    "done": "相談済み",
    "no_show": "不参加",
}
CONSULTATION_STATUS_LABELS = {
    "submitted": "新規受付",
    "in_progress": "対応中",
    "closed": "対応済み",
    "withdrawn": "取り下げ",
}

# 予約確認: the owner's requests and bookings (bot/bookings_flow.py)
NO_BOOKINGS = "いまご確認いただけるご予約はありません。"
REQUESTS_WITHOUT_TIME = (
    "日時の決まったご予約はありません。\n"
    "お申し込み（受付番号：{references}）は受付済みです。担当のコーディネーターからご連絡します。"
)
BOOKINGS_ELSEWHERE = (
    "新しいご相談は「相談を申し込む」からどうぞ。\n"
    "ご予約の確認・変更はお電話でも承ります。\n電話：{phone}\n受付時間：{hours}"
)
INTAKE_GOES_ON = "お申し込みの入力を続けます。"
BOOKINGS_LIST = "ご予約が{count}件あります。ご確認になるご予約をお選びください。\n\n{lines}"
BOOKING_VIEW = "ご予約の内容です。\n\n{lines}"
BOOKING_LINES = "日時：{when}\n方法：{method}\n場所：{place}\n状況：{status}\n受付番号：{reference}"
OWNER_BOOKING_STATUS = {
    "held": "仮のご予約（受付済み・確認待ち）",
    "requested": "仮のご予約（受付済み・確認待ち）",
    "confirmed": "確定",
}
WHOLE_DAY_SHORT = "終日"
PLACE_DESK = "{desk}の窓口"
PLACE_ONSITE = "貴社の事業所（{place}）"
PLACE_ONLINE = "オンライン（URLは担当からお送りします）"
BOOKING_CANCEL = "キャンセルする"
BOOKING_MOVE = "日時を変更したい"
BOOKINGS_BACK = "戻る"
BOOKINGS_DONE = "予約確認を終わる"
CONFIRM_BOOKING_CANCEL = "このご予約をキャンセルしますか？\n{when}\nご相談のお申し込みも取り消しになります。"
BOOKING_CANCEL_YES = "キャンセルする"
BOOKING_CANCEL_NO = "キャンセルしない"
BOOKING_CANCELLED = (
    "ご予約をキャンセルしました（{when}）。\nご相談のお申し込みも取り消しました。またいつでもご相談ください。"
)
BOOKING_NOT_CANCELLED = "キャンセルはしていません。"
BOOKING_GONE = "恐れ入りますが、このご予約はすでに変更されたか、終了しています。"
ASK_NEW_TIME = "いまの日時：{when}\n新しい日時をお選びください。"
KEEP_TIME = "変更しない"
BOOKING_MOVED = "日時を変更しました。"
BOOKING_NOT_MOVED = "日時は変更していません。"
BOOKINGS_CLOSED = "予約確認を終わります。"
BACK_TO_INTAKE = "お申し込みの入力に戻ります。"
FLOW_GONE = "恐れ入りますが、前回のやりとりは続けられなくなりました。お手数ですが、もう一度お選びください。"

# What the owner is told once a coordinator has decided (bot/decisions.py)
BOOKING_CONFIRMED_OWNER = (
    "ご予約が確定しました。\n\n日時：{when}\n方法：{method}\n場所：{place}\n受付番号：{reference}\n\n"
    "当日はご相談したい内容に関係する資料があればお手元にご用意ください。\n"
    "日時の変更やキャンセルは、メニューの「予約確認」からお手続きいただけます。"
)
ONLINE_URL = "オンライン（{url}）"
BOOKING_DECLINED_OWNER = (
    "ご相談のお申し込み（受付番号：{reference}）について、ご連絡いたします。\n"
    "誠に申し訳ございませんが、{reason}\n"
    "仮のご予約（{when}）は取り消しました。\n\n"
    "ご不明な点は、{phone}までお気軽にお問い合わせください。\n受付時間：{hours}"
)
DECLINE_NOTE = "担当者より：{note}"
# Why a request was declined, as the owner reads it (keys: the reasons the coordinator picks from)
DECLINE_REASONS = {
    "time": "ご希望の日時では担当の都合がつきませんでした。お手数ですが、別の日時で改めてお申し込みください。",
    "scope": "このご相談は当窓口の支援の対象外となります。",
    "elsewhere": "このご相談は、ほかの支援機関のほうがお力になれると考えております。",
    "other": "今回のお申し込みはお受けすることができませんでした。",
}

# 別の日時を提案: a coordinator's other times, offered on LINE (bot/proposals.py)
PROPOSAL_OWNER = (
    "受付番号 {reference} のご相談について、担当者から別の日時のご提案です。\n"
    "いまの仮のご予約：{when}\n\n{lines}\n\n"
    "ご都合のよい日時をお選びください。どれも難しい場合は「{again}」をお選びください。"
)
PROPOSAL_AGAIN = "別の日時を希望"
PROPOSAL_ASKED_AGAIN = "承知しました。担当者から改めて日時をご連絡します。少々お待ちください。"
PROPOSAL_TAKEN = (
    "申し訳ございません。お選びの日時は、ほかのご予約で埋まってしまいました。"
    "担当者から改めて日時をご連絡します。"
)
PROPOSAL_STALE = (
    "恐れ入りますが、このご提案はすでに受付を終えています（新しいご提案が届いたか、"
    "ご予約が変更・キャンセルされています）。いまのご予約はメニューの「予約確認」からご確認いただけます。"
)
PROPOSAL_ALREADY_ACCEPTED = (
    "このご提案には、すでにお答えいただいています。ご予約はメニューの「予約確認」からご確認いただけます。"
)

# 担当を変更: the owner told of the new person in charge
REASSIGNED_OWNER_NAMED = (
    "受付番号 {reference} のご相談は、担当が {name} に変わりました。日時はそのまま（{when}）です。"
)
REASSIGNED_OWNER = "受付番号 {reference} のご相談は、担当者が変わりました。日時はそのまま（{when}）です。"
