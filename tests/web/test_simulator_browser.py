"""The simulator in a real browser: headless Chromium (Debian's /usr/bin/chromium, driven by Playwright;
nothing is downloaded) against `madoguchi serve` in demo mode on SQLite. An owner asks in the LINE pane,
the request arrives as the Slack card in the coordinator's pane, the coordinator clicks 承認 (or お断り,
with the modal's reason), and the owner's pane shows what LINE would get.

With MADOGUCHI_SCREENSHOT=path.png the approval's test also photographs the page there (docs/screenshot.py
makes the README's docs/simulator.png so)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from bot import texts as bot_texts
from config import DeskConfig
from handlers.slack import texts
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
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serving(tmp_path_factory.mktemp("browser"), MADOGUCHI_DEMO="1") as (address, _):
        yield address


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
