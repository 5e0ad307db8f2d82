"""What coordinators read about outcome records in Slack (the card's lines, the modal, the notes), in one
place for review. A modal's title, submit and close are at most 24 characters."""

from __future__ import annotations

BUTTON_OUTCOME = "対応記録を入力"
DECIDED_DONE = "📝 対応記録を入力しました：{who} {at}"

# The card's lines
RECORD_LINE = "*対応記録*：{result}（{method}・{minutes}分{onsite}）"
ONSITE = "・現地訪問"
PROGRAMMES_LINE = "*紹介した支援制度*：{names}"
NEXT_LINE = "*次回の予定*：{when}"
NEXT_UNDATED = "日付未定"
REFERRALS_LINE = "*紹介先*：{names}\n*ご本人の同意*：{consent}"
CONSENT_STATES = {
    "asked": "LINEで確認中です（同意をいただくまで紹介は記録されません）",
    "agree": "✅ 同意する（紹介を記録しました）",
    "disagree": "同意しない（紹介先にはお伝えしません）",
    "not_asked": "LINEで確認できません。窓口からご本人に確認してください（紹介は記録されていません）",
}

# The modal
TITLE = "対応記録"
SUBMIT = "保存する"
CLOSE = "やめる"
INTRO = (
    "ご相談の結果を記録します。支援機関・ITベンダーへの紹介は、ご本人にLINEで同意を確認し、"
    "「同意する」のお返事をいただいてから記録されます。"
)
METHOD_LABEL = "実際の対応方法"
MINUTES_LABEL = "対応時間（分）"
SUMMARY_LABEL = "対応内容の要約"
RESULT_LABEL = "対応結果"
PROGRAMMES_LABEL = "紹介した支援制度（任意）"
NEXT_ACTION_LABEL = "次回の対応（任意）"
NEXT_DATE_LABEL = "次回の予定日（任意）"
ONSITE_LABEL = "現地訪問でしたか"
ONSITE_YES = "はい（現地訪問）"
ONSITE_NO = "いいえ"
PARTNERS_LABEL = "紹介した支援機関（任意・ご本人の同意後に記録）"
VENDORS_LABEL = "紹介したITベンダー（任意・1行に1社）"
PLACEHOLDER_PICK = "選んでください"

# Errors shown under a field of the modal
PROBLEMS = {
    "method": "対応方法を選んでください。",
    "minutes": "対応時間を1〜1440分の整数で入力してください。",
    "summary": "対応内容を2,000文字以内で入力してください。",
    "result": "対応結果を選んでください。",
    "programmes": "一覧にある支援制度を選んでください。",
    "partners": "一覧にある支援機関を選んでください。",
    "vendors": "ITベンダーは10社まで、1社100文字以内で入力してください。",
    "next_action": "次回の対応は500文字以内で入力してください。",
}

# The notes to the one who submitted (ephemeral)
RECORDED = "対応記録を保存しました。"
ASKED_OWNER = "紹介先について、ご本人にLINEで同意を確認しています。お返事はカードに表示されます。"
NOT_ASKED = "ご本人にLINEで確認できないため、紹介の同意は窓口から確認してください。"
ALREADY = "この予約の対応記録はすでに入力されています。カードの表示をご確認ください。"
NOT_YET = "ご相談の時間がまだ終わっていません。終了後に入力してください。"
NOT_CONFIRMED = "確定した予約ではないため、対応記録を入力できません。"
