"""Questions that exist only in tests, added to the field registry in this one place.

`new_questions()` adds them while a test runs: a free text kept in `extra` (創業年), a yes/no question kept in
`extra` (ホームページ), and a personal free text kept encrypted in `personal_extra` (ご紹介者). Nothing else in the
code or the tests names them: the chat, the summary, the web form, the admin API and the scripted owner
(tests/owner.py) take them from the registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import text

from bot.field_kinds import Text, YesNo
from bot.fields import FIELDS, Field, FormInput
from storage.crypto import keyring
from storage.database import Database

FOUNDED = Field(
    "founded",
    "創業年",
    Text(limit=20),
    prompt="創業された年をご入力ください（{limit}文字以内）。\n例：1998年",
    form=FormInput(label="創業された年", message="創業された年をご入力ください。", help="例：1998年"),
)
WEBSITE = Field(
    "has_website",
    "ホームページ",
    YesNo(yes="ある", no="ない"),
    prompt="ホームページはお持ちですか？",
    form=FormInput(label="ホームページの有無", message="「ある」か「ない」をお選びください。"),
)
REFERRER = Field(
    "referrer",
    "ご紹介者",
    Text(limit=30),
    personal=True,
    prompt="この窓口をご紹介くださった方のお名前をご入力ください（{limit}文字以内）。",
    form=FormInput(label="ご紹介者のお名前", message="ご紹介者のお名前をご入力ください。"),
)


@contextmanager
def new_questions() -> Iterator[None]:
    """The registry with the test-only questions: 創業年 and ホームページ after 取り組み状況, ご紹介者 after ご担当者."""
    with ExitStack() as stack:
        stack.enter_context(FIELDS.added(FOUNDED, after="dx_stage"))
        stack.enter_context(FIELDS.added(WEBSITE, after="founded"))
        stack.enter_context(FIELDS.added(REFERRER, after="contact_name"))
        yield


def raw_extras(db: Database) -> list[tuple[Any, str | None]]:
    """Each consultation's `extra` (parsed) and `personal_extra` exactly as stored (the encrypted token)."""
    with db.session() as session:
        rows = session.execute(text("SELECT extra, personal_extra FROM consultation ORDER BY id")).all()
    return [(json.loads(e) if isinstance(e, str) else e, p) for e, p in rows]


def decrypted(token: str | None) -> Any:
    assert token is not None
    return json.loads(keyring().decrypt(token))
