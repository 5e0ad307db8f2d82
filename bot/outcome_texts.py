"""What the owner reads about a referral (LINE), and the outcome's labels, in one place for review."""

from __future__ import annotations

RESULT_LABELS = {
    "resolved": "解決",
    "continuing": "継続支援",
    "referred": "他機関紹介",
    "information": "情報提供のみ",
    "on_hold": "保留",
}

CONSENT_AGREE = "同意する"
CONSENT_DISAGREE = "同意しない"
CONSENT_QUESTION = (
    "ご相談（受付番号：{reference}）についてのご確認です。\n"
    "担当コーディネーターから、次の紹介先をご案内しました。\n{targets}\n\n"
    "ご紹介のため、貴社名・ご担当者さま・ご連絡先・ご相談の内容を、これらの紹介先にお伝えしてもよろしいでしょうか。\n"
    "同意いただけない場合も、窓口でのご支援はこれまでどおり続けます。"
)
CONSENT_TARGET = "・{name}"
CONSENT_AGREED = (
    "ありがとうございます。ご紹介先にお伝えします。今後の進め方は、担当コーディネーターからご連絡いたします。"
)
CONSENT_DISAGREED = "承知しました。ご紹介先にはお伝えしません。窓口でのご支援はこれまでどおり続けます。"
CONSENT_ALREADY = (
    "このご確認には、すでに「{answer}」とお返事をいただいています。"
    "変更をご希望の場合は、お手数ですが窓口（{phone}）までご連絡ください。"
)
CONSENT_STALE = "このご確認は、新しいものに置き換わっています。最新のご確認メッセージからお返事ください。"
CONSENT_UNKNOWN = "このご確認は見つかりませんでした。お手数ですが、窓口（{phone}）までお問い合わせください。"
ANSWER_LABELS = {"agree": CONSENT_AGREE, "disagree": CONSENT_DISAGREE}
