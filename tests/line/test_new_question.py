"""A question added to the field registry in one place (tests/new_question.py) is asked over the LINE webhook in
its place (the scripted owner answers it by its kind), read back in the summary, and stored: the clear answers in
`extra`, the personal one encrypted in `personal_extra`."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from bot import texts
from bot.intake import Step
from tests.line.conftest import ADMIN, InProcessServer, LineUser
from tests.line.standin import LineStandIn
from tests.new_question import FOUNDED, REFERRER, WEBSITE, decrypted, new_questions, raw_extras
from tests.owner import LineChannel, Owner


@pytest.fixture
def questions() -> Iterator[None]:
    with new_questions():
        yield


@pytest.mark.usefixtures("questions")
def test_the_new_questions_are_asked_over_line_read_back_and_stored(
    start_server: Callable[..., InProcessServer], standin: LineStandIn
) -> None:
    server = start_server()
    user = LineUser(server.url, standin)
    line = LineChannel(user)
    owner = Owner(line)
    owner.walk_to("founded", referrer="桜島 一郎", method="電話")
    assert "創業された年をご入力ください（20文字以内）。" in "\n".join(line.last.texts)
    owner.walk_to("has_website", founded="1998年")
    asked = line.last
    assert [a["label"] for m in asked.messages for a in [i["action"] for i in m["quickReply"]["items"]]] == [
        "ある",
        "ない",
    ]
    owner.walk_to(Step.SUMMARY, has_website="ない")
    summary = "\n".join(line.last.texts)
    for label, answer in ((FOUNDED.label, "1998年"), (WEBSITE.label, "ない"), (REFERRER.label, "桜島 一郎")):
        assert f"{label}：{answer}" in summary
    path = [str(step) for step in owner.path]
    assert path.index("referrer") == path.index(Step.CONTACT_NAME) + 1
    assert path[path.index(Step.DX_STAGE) + 1 : path.index(Step.METHOD)] == ["founded", "has_website"]

    done = line.tap(texts.SUBMIT)
    assert "受け付けました" in done.texts[0]  # type: ignore[attr-defined]
    [(extra, token)] = raw_extras(server.db)
    assert extra == {"founded": "1998年", "has_website": False}
    assert token and "桜島" not in token and decrypted(token) == {"referrer": "桜島 一郎"}
    headers = {"Authorization": f"Bearer {ADMIN}"}
    [item] = httpx.get(f"{server.url}/api/consultations", headers=headers).json()["items"]
    assert (item["founded"], item["has_website"], item["channel"]) == ("1998年", False, "line")
