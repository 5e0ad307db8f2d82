"""What coordinators read in Slack (the slash command's help, the App Home), in one place for review."""

from __future__ import annotations

COMMAND = "/madoguchi"

HELP = (
    "窓口アシスタントの使い方です。\n"
    "・新しい相談は受付チャンネルにカードで届きます。\n"
    "・カードのボタンで、承認・別の日時の提案・担当の変更・お断りができます。\n"
    "・対応できるのは、その相談の担当コーディネーターと承認者です。\n"
    f"・`{COMMAND} help` でこの説明を表示します。"
)
UNKNOWN_COMMAND = "「{text}」には対応していません。"
HOME_TITLE = "{desk}"
HOME_COORDINATOR = "{name} さんとして登録されています。担当の相談に対応できます。"
HOME_APPROVER = "承認者として登録されています。すべての相談に対応できます。"
HOME_OTHER = "相談に対応できるのは、担当のコーディネーターと承認者です。登録は窓口の管理者にご依頼ください。"
