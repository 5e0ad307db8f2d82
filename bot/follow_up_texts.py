"""What owners read in a follow-up (the nudge of an unfinished request, the satisfaction survey), kept in
one place to review (polite, short on a phone)."""

from __future__ import annotations

NUDGE = (
    "【{desk}】\nご相談のお申し込みが途中のままになっています。\n"
    "入力いただいた内容は保存してありますので、続きから入力できます。最初から入力し直すこともできます。"
)
NUDGE_HOLD_RELEASED = (
    "お選びいただいた日時の仮押さえは解除しました。続きから入力される際に、あらためてお選びください。"
)
NUDGE_CLOSING = "お申し込みをやめる場合は、このままで大丈夫です。"

SURVEY = (
    "【{desk}】\n{when}のご相談、ありがとうございました。\n"
    "よろしければ、満足度を5段階でお聞かせください（5がいちばん満足）。"
)
SCORE_LABELS = {5: "5 とても満足", 4: "4 満足", 3: "3 ふつう", 2: "2 やや不満", 1: "1 不満"}
ASK_COMMENT = (
    "ありがとうございます（満足度 {score}/5）。\n"
    "よろしければ、ご感想やご要望をひとことお送りください。ない場合は「スキップ」を押してください。"
)
SKIP = "スキップ"
SKIP_WORDS = (
    "スキップ",
    "すきっぷ",
    "なし",
    "無し",
    "特になし",
    "とくになし",
    "ありません",
    "ないです",
    "skip",
)
COMMENT_LIMIT = 1000
THANKS_COMMENT = "ご感想をお寄せいただき、ありがとうございました。今後の支援に役立てます。"
THANKS = "ご回答ありがとうございました。"
ALREADY_ANSWERED = "この満足度のお尋ねには、すでにご回答いただいています。ありがとうございました。"
COMMENT_CLOSED = "満足度のご回答ありがとうございました。ご感想の受付は終了しましたので、ご用件があればあらためてお送りください。"
NOT_YOURS = "恐れ入りますが、このボタンはご利用いただけません。"
