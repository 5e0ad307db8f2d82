"""What coordinators read in Slack (the slash command's help, the App Home), in one place for review."""

from __future__ import annotations

COMMAND = "/madoguchi"

HELP = (
    "窓口アシスタントの使い方です。\n"
    "・新しい相談は受付チャンネルにカードで届きます。\n"
    "・カードのボタンで、承認・別の日時の提案・担当の変更・お断りができます。\n"
    "・対応できるのは、その相談の担当コーディネーターと承認者です。\n"
    "・カードのスレッドに書くと、お客様のLINEに届きます（`メモ:` で始めるとSlackの中だけのメモになります）。\n"
    f"・`{COMMAND} today` 今日の予定、`{COMMAND} week` 7日間の予定、`{COMMAND} pending` 対応待ちの相談、"
    f"`{COMMAND} find 会社名` 相談の検索\n"
    f"・`{COMMAND} help` でこの説明を表示します。"
)
UNKNOWN_COMMAND = "「{text}」には対応していません。"
# The lists (handlers/slack/commands.py, handlers/slack/home.py)
WHOSE_MINE = "あなたの担当"
WHOSE_DESK = "窓口全体"
TODAY_TITLE = "*今日の予定（{whose}）*"
TODAY_EMPTY = "今日の予定はありません。"
WEEK_TITLE = "*今日から7日間の予定（{whose}）*"
WEEK_EMPTY = "この7日間の予定はありません。"
PENDING_TITLE = "*対応待ちの相談（{whose}）*"
PENDING_EMPTY = "対応待ちの相談はありません。"
FIND_TITLE = "*「{words}」の検索結果*"
FIND_EMPTY = "該当する相談はありません。"
FIND_TOO_SHORT = "会社名を2文字以上入れてください（例：`/madoguchi find 鹿児島`）。"
LIST_MORE = "ほか {count} 件"
NOT_REGISTERED = "コーディネーターまたは承認者として登録されていないため、表示できません。登録は窓口の管理者にご依頼ください。"
HOME_UPCOMING = "*これからの予定（14日間）*"
HOME_UPCOMING_EMPTY = "これからの予定はありません。"
HOME_TITLE = "{desk}"
HOME_COORDINATOR = "{name} さんとして登録されています。担当の相談に対応できます。"
HOME_APPROVER = "承認者として登録されています。すべての相談に対応できます。"
HOME_OTHER = "相談に対応できるのは、担当のコーディネーターと承認者です。登録は窓口の管理者にご依頼ください。"

# The approval card (handlers/slack/cards.py)
CARD_TITLE = "新しいご相談 {reference}"
CARD_TEXT = "新しいご相談が届きました（受付番号 {reference}、希望日時 {when}）"
CARD_TEXT_DECIDED = "対応済み"
CARD_REFERENCE = "受付番号：{reference}"
HELD_TIME = "希望日時（仮押さえ）"
SUGGESTED = "担当（候補）"
NO_TIME = "日時の指定なし（電話・メールでのご連絡）"
NOBODY = "未定"
BOOKING_STATES = {
    "held": "（仮押さえ）",
    "requested": "（仮押さえ・承認待ち）",
    "confirmed": "（確定）",
    "declined": "（お断り）",
    "expired": "（期限切れ）",
    "cancelled": "（キャンセル）",
    "done": "（対応済み）",
}
DECIDED_CONFIRMED = "✅ 承認しました：{who} {at}"
DECIDED_DECLINED = "お断りしました：{who} {at}"
DECIDED_CANCELLED = "キャンセルされました：{who} {at}"
DECIDED_EXPIRED = "期限切れになりました {at}"
ACTORS = {"owner": "ご本人（LINE）", "system": "自動"}
BUTTON_APPROVE = "承認"
BUTTON_PROPOSE = "別の日時を提案"
BUTTON_REASSIGN = "担当を変更"
BUTTON_DECLINE = "お断り"
BUTTON_CONTACT = "連絡先を見る"
CONTACT_SHOWN = "受付番号 {reference} の連絡先です（閲覧は記録されます）。\n{lines}"

# What a click answers, to the one who clicked (ephemeral)
NOT_YOURS = "この相談に対応できるのは、担当のコーディネーターと承認者です。"
ALREADY_DECIDED = "この相談はすでに対応済みです（{status}）。カードの表示をご確認ください。"
APPROVED = "承認しました。ご本人にLINEでお知らせします。"
NOT_YET = "この操作はまだ準備中です。お手数ですが、ご本人へは電話などでご連絡ください。"
GONE = "この相談は見つかりませんでした。"

# お断り: the modal (its title, submit and close at most 24 characters)
DECLINE_TITLE = "お断り"
DECLINE_SUBMIT = "お断りする"
DECLINE_CLOSE = "やめる"
DECLINE_REASON_LABEL = "理由"
DECLINE_REASONS = {
    "time": "日時の都合がつかない",
    "scope": "窓口の支援の対象外",
    "elsewhere": "ほかの支援機関が適切",
    "other": "その他",
}
DECLINE_NOTE_LABEL = "ご本人へのひとこと（任意・LINEでそのまま届きます）"
DECLINED = "お断りしました。ご本人にLINEでお知らせします。"

# 担当を変更: the modal (its title, submit and close at most 24 characters) and what the clicker is told
REASSIGN_TITLE = "担当を変更"
REASSIGN_SUBMIT = "変更する"
REASSIGN_LOADING = "担当できるコーディネーターを確認しています…"
REASSIGN_LABEL = "新しい担当"
REASSIGN_INTRO = "受付番号 {reference}（{when}）を引き継ぐコーディネーターを選んでください。"
REASSIGN_NOBODY = "この相談の分野・方法・地域を担当できる、ほかのコーディネーターがいません。"
REASSIGNED = "担当を {who} さんに変更しました。"
REASSIGN_BUSY = (
    "{who} さんは、この日時（{when}）に空きがないため、担当を変更できませんでした。"
    "担当はそのままです。別の日時を提案するか、ほかの方をお選びください。"
)
REASSIGN_NOT_TAKEN = "{who} さんは、この相談の分野・方法・地域を担当していないため、変更できませんでした。"
DECIDED_REASSIGNED = "担当を変更しました：{who} {at}（{old} → {new}）"
SURVEY_SCORE = "満足度 {score}/5"  # the owner's answer to the satisfaction survey after the consultation

# 別の日時を提案: the modal (its title, submit and close at most 24 characters), the clicker's notes, the card
RETIME_TITLE = "別の日時を提案"
RETIME_SUBMIT = "LINEで提案する"
RETIME_LOADING = "空いている日時を確認しています…"
RETIME_INTRO = "受付番号 {reference}（いま：{when}）のご本人に、LINEで別の日時を提案します。"
RETIME_SLOTS_LABEL = "担当の空いている日時（最大{count}件）"
RETIME_NO_SLOTS = "担当の空いている日時が見つかりませんでした。下で日時を入力してください。"
RETIME_FREE_LABEL = "日時を入力（任意）"
RETIME_NOTHING_CHOSEN = "日時を1つ以上選ぶか、入力してください。"
RETIME_PAST = "これから先の日時を入力してください。"
RETIME_SENT = "ご本人にLINEで別の日時を提案しました。お返事はカードに表示されます。"
RETIME_ALREADY = "この提案は送信済みです。"
RETIME_NO_CHANNEL = "ご本人はLINEをお使いでないため、提案を送れません。お電話などでご連絡ください。"
RETIME_NO_TIMES = "提案できる日時がありませんでした（過去の日時やいまの日時は除きます）。"
STEP_PROPOSED = "🕒 別の日時を提案しました：{who} {at}（{times}）"
STEP_ACCEPTED = "✅ ご本人が提案の日時を選びました：{time}（{at}）"
STEP_ASKED_AGAIN = "↩️ ご本人が別の日時を希望されています（{at}）。もう一度ご提案ください。"
STEP_TAKEN = "⚠️ ご本人が選んだ日時（{time}）は埋まっていました（{at}）。もう一度ご提案ください。"
SLOT_LOST = "この日時（{when}）は、ほかのご相談の予約で埋まりました。別の日時を提案してください。"
REASSIGN_FULL = (
    "{who} さんは {day} の予約が上限に達しているため、担当を変更できませんでした。"
    "担当はそのままです。別の日時を提案するか、ほかの方をお選びください。"
)
