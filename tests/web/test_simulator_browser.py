"""The simulator in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
nothing is downloaded) against `madoguchi serve` in demo mode on SQLite. An owner asks in the LINE pane,
the request arrives as the Slack card in the coordinator's pane, the coordinator clicks 承認 (or お断り,
with the modal's reason, or 別の日時を提案 with its checkboxes), and the owner's pane shows what LINE would
get; they talk in the card's thread; once the time has passed, 対応記録を入力 with a referral asks the owner's
consent on the phone, and the card shows the answer.

With MADOGUCHI_SCREENSHOT=path.png the approval's test also photographs the page there (docs/screenshot.py
makes the README's docs/simulator.png so)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from bot import relay
from bot import texts as bot_texts
from bot.outcome_texts import CONSENT_AGREE, CONSENT_AGREED
from bot.outcomes import offer_outcome_records
from bot.sending import Outbound
from config import DeskConfig
from handlers.slack import outcome_texts, texts
from storage.bookings import list_bookings_for_consultation
from storage.database import Database
from storage.models import Consultation
from tests.handlers.test_startup import serving
from tests.owner import Owner, Shown

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1280, 900
WAIT_MS = 15_000

pytestmark = pytest.mark.slow

# The texts of the bot's bubbles after the owner's last one, and the quick replies (label, postback data)
LAST_TURN = """() => {
  const rows = [...document.querySelectorAll('#chat > .line-row')];
  let start = 0;
  rows.forEach((row, i) => { if (row.classList.contains('in')) start = i + 1; });
  const texts = rows.slice(start).filter(r => r.classList.contains('out') && !r.classList.contains('line-typing'))
    .map(r => r.querySelector('.line-bubble').textContent);
  const chips = [...document.querySelectorAll('#quick .line-chip')]
    .map(c => [c.textContent, c.getAttribute('data-postback') || '']);
  return [texts, chips];
}"""


class BrowserPhone:
    """The simulator's LINE pane as the scripted owner (tests/owner.py) uses it: typing, tapping chips."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def _settle(self) -> None:
        expect(self.page.locator(".line-typing")).to_have_count(0, timeout=WAIT_MS)
        expect(self.page.locator(".line-system")).to_have_count(0)  # no 送信できませんでした

    def say(self, text: str) -> object:
        self.page.fill("#text", text)
        self.page.press("#text", "Enter")
        self._settle()
        return None

    def tap(self, label: str) -> object:
        self.page.locator("#quick").get_by_role("button", name=label, exact=True).click()
        self._settle()
        return None

    def shown(self) -> Shown:
        replies, chips = self.page.evaluate(LAST_TURN)
        return Shown(tuple(replies), tuple((label, data) for label, data in chips))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The server's address, and its directory (its SQLite database is var/madoguchi.db there)."""
    where = tmp_path_factory.mktemp("browser")
    with serving(where, MADOGUCHI_DEMO="1") as (address, _):
        yield address, where


@pytest.fixture(scope="module")
def base(served: tuple[str, Path]) -> str:
    return served[0]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Chromium is missing: `make install` installs Debian's chromium"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, base: str) -> Iterator[Page]:
    """A fresh browser (its own visitor cookie) on the simulator, greeted."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="ja-JP")
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.goto(base + "/")
    expect(opened.locator("#chat .line-row.out").first).to_be_visible(timeout=WAIT_MS)
    yield opened
    context.close()
    assert errors == []


def submit_request(page: Page, company: str) -> str:
    """The owner's whole intake in the LINE pane; returns the request number the card is titled with."""
    phone = BrowserPhone(page)
    owner = Owner(phone)
    owner.answer_until(None, company=company)
    assert "受け付けました" in "\n".join(phone.shown().texts)
    card = page.locator("#feed .slack-item").last
    expect(card.locator(".bk-header")).to_contain_text("新しいご相談", timeout=WAIT_MS)
    return card.locator(".bk-header").inner_text().removeprefix("新しいご相談").strip()


def test_the_coordinator_approves_on_the_card_and_the_owner_reads_the_confirmation(
    page: Page, tmp_path: Path, desk: DeskConfig
) -> None:
    reference = submit_request(page, "株式会社きりしま製作所")
    card = page.locator("#feed .slack-item").last
    expect(card).to_contain_text("株式会社きりしま製作所")
    expect(card).to_contain_text("承認待ち")
    labels = card.locator(".bk-actions .bk-button").all_inner_texts()
    assert labels == ["承認", "別の日時を提案", "担当を変更", "お断り", "連絡先を見る"]
    # The card mentions its coordinator by name, as Slack shows a mention
    mention = card.locator(".bk-mention").first.inner_text()
    assert mention.removeprefix("@") in {c.name for c in desk.scheduling.coordinators}

    card.get_by_role("button", name="承認", exact=True).click()

    confirmed = page.locator("#chat .line-bubble", has_text="ご予約が確定しました")
    expect(confirmed).to_have_count(1, timeout=WAIT_MS)
    expect(confirmed).to_contain_text(f"受付番号：{reference}")
    expect(card).to_contain_text(f"✅ 承認しました：{mention}", timeout=WAIT_MS)
    expect(card).to_contain_text("（確定）")
    expect(card.get_by_role("button", name="承認", exact=True)).to_have_count(0)
    page.wait_for_timeout(2500)  # another poll of the phone's inbox: the confirmation stays single
    expect(confirmed).to_have_count(1)

    shot = Path(os.environ.get("MADOGUCHI_SCREENSHOT") or tmp_path / "simulator.png")
    page.evaluate("document.getElementById('chat').scrollTop = 1e9")
    page.screenshot(path=str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_coordinator_declines_with_a_reason_and_the_owner_reads_it(page: Page) -> None:
    submit_request(page, "有限会社さくらじま商店")
    card = page.locator("#feed .slack-item").last
    card.get_by_role("button", name="お断り", exact=True).click()

    dialog = page.locator("#modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#modal-title")).to_have_text(texts.DECLINE_TITLE)
    dialog.get_by_label(texts.DECLINE_REASON_LABEL).select_option(label=texts.DECLINE_REASONS["scope"])
    dialog.locator("textarea").fill("よろず支援拠点もご検討ください。")
    dialog.get_by_role("button", name=texts.DECLINE_SUBMIT).click()
    expect(dialog).to_be_hidden()

    declined = page.locator("#chat .line-bubble", has_text="ご連絡いたします")
    expect(declined).to_have_count(1, timeout=WAIT_MS)
    expect(declined).to_contain_text(bot_texts.DECLINE_REASONS["scope"])
    expect(declined).to_contain_text("担当者より：よろず支援拠点もご検討ください。")
    expect(card.locator(".bk-ephemeral")).to_contain_text(texts.DECLINED)
    expect(card).to_contain_text("お断りしました：@", timeout=WAIT_MS)
    expect(card.get_by_role("button", name="お断り", exact=True)).to_have_count(0)


def test_another_time_is_proposed_and_accepted_then_they_talk_in_the_thread(
    page: Page, desk: DeskConfig
) -> None:
    submit_request(page, "合同会社いぶすき工房")
    card = page.locator("#feed .slack-item").last
    card.get_by_role("button", name="別の日時を提案", exact=True).click()
    dialog = page.locator("#modal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("#modal-title")).to_have_text(texts.RETIME_TITLE)
    dialog.get_by_role("button", name=texts.RETIME_SUBMIT).click()  # nothing chosen: Slack's error, kept open
    expect(dialog).to_contain_text(texts.RETIME_NOTHING_CHOSEN)
    checkboxes = dialog.get_by_role("checkbox")
    offered = checkboxes.count()
    assert offered >= 2
    checkboxes.first.check()
    dialog.get_by_role("button", name=texts.RETIME_SUBMIT).click()
    expect(dialog).to_be_hidden()
    expect(card.locator(".bk-ephemeral")).to_contain_text(texts.RETIME_SENT)

    proposal = page.locator("#chat .line-bubble", has_text="別の日時のご提案")
    expect(proposal).to_have_count(1, timeout=WAIT_MS)
    expect(card).to_contain_text("別の日時を提案しました", timeout=WAIT_MS)
    chips = page.locator("#quick .line-chip").all_inner_texts()
    assert (
        chips[-1] == bot_texts.PROPOSAL_AGAIN and len(chips) == 2
    )  # the one time ticked, and 別の日時を希望
    phone = BrowserPhone(page)
    phone.tap(chips[0])
    assert any("ご予約が確定しました" in t for t in phone.shown().texts)
    expect(card).to_contain_text("ご本人が提案の日時を選びました", timeout=WAIT_MS)
    expect(card).to_contain_text("（確定）")

    # The thread: the owner writes, the coordinator answers, a memo stays in the pane
    phone.say("駐車場はありますか？")
    assert phone.shown().texts == (relay.RELAYED,)
    thread = card.locator(".slack-thread")
    expect(thread.locator(".slack-reply")).to_have_count(1, timeout=WAIT_MS)
    expect(thread).to_contain_text("駐車場はありますか？")
    box = thread.get_by_label("スレッドに返信する")
    box.fill("はい、2台分ございます。")
    box.press("Enter")
    answer = page.locator("#chat .line-bubble", has_text="はい、2台分ございます。")
    expect(answer).to_have_count(1, timeout=WAIT_MS)
    expect(answer).to_contain_text("担当者より")
    box = card.locator(".slack-thread").get_by_label("スレッドに返信する")
    box.fill("memo: 駐車場を2台分押さえる")
    box.press("Enter")
    expect(card.locator(".slack-reply")).to_have_count(3, timeout=WAIT_MS)
    expect(card.locator(".slack-thread")).to_contain_text("memo: 駐車場を2台分押さえる")
    page.wait_for_timeout(2500)  # another poll of the phone's inbox: the memo never reaches it
    expect(page.locator("#chat .line-bubble", has_text="駐車場を2台分押さえる")).to_have_count(0)


def _time_passes(where: Path, reference: str) -> None:
    """The consultation's time is over (its booking moved to the past) and the follow-ups job has offered
    対応記録を入力 (bot.outcomes.offer_outcome_records), as the scheduler would after the meeting."""
    db = Database(f"sqlite:///{where}/var/madoguchi.db")
    try:
        with db.session() as session:
            # by id only: the test process has not the server's key to the personal data
            found = session.scalars(select(Consultation.id).where(Consultation.reference == reference)).one()
            [booking] = list_bookings_for_consultation(session=session, consultation_id=found)
            length = booking.ends_at - booking.starts_at
            now = datetime.now(UTC)
            booking.starts_at = booking.blocked_from = now - timedelta(hours=2)
            booking.ends_at = booking.blocked_until = booking.starts_at + length
            session.flush()
            assert offer_outcome_records(session, Outbound(), now) == 1
    finally:
        db.dispose()


def test_the_outcome_with_a_referral_asks_the_owner_and_the_card_shows_the_consent(
    page: Page, served: tuple[str, Path], desk: DeskConfig
) -> None:
    reference = submit_request(page, "株式会社かのや農園")
    card = page.locator("#feed .slack-item").last
    card.get_by_role("button", name="承認", exact=True).click()
    expect(page.locator("#chat .line-bubble", has_text="ご予約が確定しました")).to_have_count(
        1, timeout=WAIT_MS
    )
    _time_passes(served[1], reference)

    record = card.get_by_role("button", name=outcome_texts.BUTTON_OUTCOME, exact=True)
    expect(record).to_be_visible(timeout=WAIT_MS)
    record.click()
    dialog = page.locator("#modal")
    expect(dialog.locator("#modal-title")).to_have_text(outcome_texts.TITLE)
    dialog.get_by_label(outcome_texts.METHOD_LABEL).select_option(index=0)
    dialog.get_by_label(outcome_texts.MINUTES_LABEL).fill("60")
    dialog.get_by_label(outcome_texts.SUMMARY_LABEL).fill(
        "受発注の流れを整理し、商工会議所をご紹介しました。"
    )
    dialog.get_by_label(outcome_texts.RESULT_LABEL).select_option(label="他機関紹介")
    expect(dialog.get_by_role("radio", name=outcome_texts.ONSITE_NO)).to_be_checked()
    partner = desk.outcomes.partners[0].name
    dialog.get_by_label(outcome_texts.PARTNERS_LABEL).select_option(label=[partner])
    dialog.get_by_role("button", name=outcome_texts.SUBMIT).click()
    expect(dialog).to_be_hidden()
    expect(card.locator(".bk-ephemeral")).to_contain_text(outcome_texts.ASKED_OWNER)
    expect(card).to_contain_text(outcome_texts.CONSENT_STATES["asked"], timeout=WAIT_MS)

    question = page.locator("#chat .line-bubble", has_text=partner)
    expect(question).to_have_count(1, timeout=WAIT_MS)
    phone = BrowserPhone(page)
    phone.tap(CONSENT_AGREE)
    assert phone.shown().texts == (CONSENT_AGREED,)
    expect(card).to_contain_text(outcome_texts.CONSENT_STATES["agree"], timeout=WAIT_MS)
    expect(card.get_by_role("button", name=outcome_texts.BUTTON_OUTCOME, exact=True)).to_have_count(0)
