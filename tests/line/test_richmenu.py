"""`madoguchi line rich-menu` against the LINE stand-in, and what the menu's areas send answered by the bot.

The command runs as an owner's operator runs it (a subprocess with LINE_API_BASE_URL at the stand-in, which
serves LINE's api and api-data hosts both and refuses what LINE refuses). The menu's texts go through the
real engine on the database under test, and the simulator's page shows the same menu.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bot import texts
from bot.engine import IntakeEngine
from bot.intake import Step
from config import DeskConfig
from handlers.line.richmenu import HEIGHT, MARKER, WIDTH, data_host, draw_image, font_path, layout
from storage.clock import FixedClock
from storage.contacts import get_or_create_contact
from storage.conversations import get_conversation
from storage.database import Database
from tests.bot.chat import Chat
from tests.line.standin import RICH_MENU_CONTENT, TOKEN, LineStandIn
from tests.owner import Owner

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def rich_menu_cli(api_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINE_", "SLACK_", "MADOGUCHI_"))}
    env.update(
        {
            "LINE_CHANNEL_SECRET": "test-channel-secret-0123456789ab",
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE_URL": api_url,
            "MADOGUCHI_VAR_DIR": str(tmp_path / "var"),
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "handlers.cli", "line", "rich-menu"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )


def test_the_command_creates_the_menu_uploads_its_drawn_image_and_makes_it_the_default(
    standin: LineStandIn, tmp_path: Path
) -> None:
    result = rich_menu_cli(standin.url, tmp_path)
    assert result.returncode == 0, result.stderr

    menus = standin.rich_menus()
    assert len(menus) == 1
    (menu_id, menu), *_ = menus.items()
    assert standin.default_rich_menu == menu_id
    assert menu_id in result.stdout and "default" in result.stdout
    assert menu["size"] == {"width": 2500, "height": 843}
    assert menu["name"].startswith(MARKER) and menu["selected"] is True
    sent = [(a["action"]["label"], a["action"]["type"], a["action"]["text"]) for a in menu["areas"]]
    assert sent == [
        ("相談する", "message", texts.START_BUTTON),
        ("予約確認", "message", "予約確認"),
        ("お問い合わせ", "message", "お問い合わせ"),
    ]
    # The areas tile the menu side by side, edge to edge.
    bounds = [a["bounds"] for a in menu["areas"]]
    assert [b["x"] for b in bounds] == [0, bounds[0]["width"], bounds[0]["width"] + bounds[1]["width"]]
    assert sum(b["width"] for b in bounds) == 2500 and {b["height"] for b in bounds} == {843}

    image = standin.rich_menu_image(menu_id)
    assert image.format == "PNG" and image.size == (2500, 843)
    # Not blank: every area has its dark label and its coloured pictogram on the white ground.
    for b in bounds:
        area = image.convert("RGB").crop((b["x"], 0, b["x"] + b["width"], 843))
        found = area.getcolors(maxcolors=1 << 20) or []
        colours = cast(list[tuple[int, tuple[int, int, int]]], found)  # an RGB image's: (count, (r, g, b))
        dark = sum(n for n, (r, g, bl) in colours if r + g + bl < 200)
        vivid = sum(n for n, (r, g, bl) in colours if max(r, g, bl) - min(r, g, bl) > 80)
        assert dark > 5_000, "the label is missing or too small to read"
        assert vivid > 50_000, "the pictogram is missing"
        # Legible on a small phone: LINE fits the 2500 pixels to the screen's width (320 points on the
        # smallest phones), so the label's characters must be at least about 90 pixels (11.5 points) high.
        ink = area.convert("L").point(lambda v: 255 if v < 70 else 0).getbbox()  # the label's dark ink
        assert ink is not None and ink[3] - ink[1] >= 90, ink


def test_a_second_run_replaces_the_menu_instead_of_adding_one(standin: LineStandIn, tmp_path: Path) -> None:
    assert rich_menu_cli(standin.url, tmp_path).returncode == 0
    (first,) = standin.rich_menus()
    # A menu the desk made by hand in the console (not ours) is left alone.
    theirs = {**standin.rich_menus()[first], "name": "キャンペーン"}
    del theirs["richMenuId"]
    made = httpx.post(f"{standin.url}/v2/bot/richmenu", json=theirs, headers=AUTH).json()["richMenuId"]

    second = rich_menu_cli(standin.url, tmp_path)
    assert second.returncode == 0, second.stderr
    assert "1 earlier menu(s) deleted" in second.stdout

    menus = standin.rich_menus()
    new = standin.default_rich_menu
    assert new is not None and new != first
    assert set(menus) == {new, made}
    assert standin.rich_menu_image(new).size == (2500, 843)
    # The new default was set before the old menu was deleted: owners never had no menu.
    calls = [path for path, status, _ in standin.state.requests if status == 200]
    assert calls.index(f"/v2/bot/user/all/richmenu/{new}") < calls.index(f"/v2/bot/richmenu/{first}")


def test_a_refused_image_leaves_no_new_menu_and_the_old_default_stays(
    standin: LineStandIn, tmp_path: Path
) -> None:
    assert rich_menu_cli(standin.url, tmp_path).returncode == 0
    (first,) = standin.rich_menus()
    standin.fail(RICH_MENU_CONTENT, 400)

    result = rich_menu_cli(standin.url, tmp_path)
    assert result.returncode == 1
    assert "LINE refused the rich menu: 400" in result.stderr
    assert set(standin.rich_menus()) == {first}
    assert standin.default_rich_menu == first


def test_the_stand_in_refuses_what_line_refuses(standin: LineStandIn) -> None:
    def create(menu: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{standin.url}/v2/bot/richmenu", json=menu, headers=AUTH)

    area = {
        "bounds": {"x": 0, "y": 0, "width": 2500, "height": 843},
        "action": {"type": "message", "text": "a"},
    }
    good = {"size": {"width": 2500, "height": 843}, "selected": True, "name": "m", "chatBarText": "メニュー"}
    good["areas"] = [area]
    wrong: list[dict[str, Any]] = [
        {**good, "chatBarText": "あ" * 15},
        {**good, "name": "n" * 301},
        {**good, "areas": [area] * 21},
        {**good, "areas": [{**area, "bounds": {"x": 1, "y": 0, "width": 2500, "height": 843}}]},
        {**good, "size": {"width": 2501, "height": 843}},
        {**good, "size": {"width": 1000, "height": 843}},
    ]
    for menu in wrong:
        assert create(menu).status_code == 400, menu
    menu_id = create(good).json()["richMenuId"]

    def upload(data: bytes, content_type: str = "image/png") -> int:
        url = f"{standin.url}/v2/bot/richmenu/{menu_id}/content"
        return httpx.post(url, content=data, headers={**AUTH, "Content-Type": content_type}).status_code

    def png(image: Image.Image) -> bytes:
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()

    drawn = draw_image(layout())
    noise = png(Image.frombytes("RGB", (2500, 843), os.urandom(2500 * 843 * 3)))
    assert len(noise) > 1024 * 1024
    assert upload(noise) == 400  # over 1 MB
    assert upload(png(Image.open(io.BytesIO(drawn)).resize((1250, 421)))) == 400  # not the menu's size
    assert upload(drawn, "image/jpeg") == 400  # not what it says it is
    default = f"{standin.url}/v2/bot/user/all/richmenu/{menu_id}"
    assert httpx.post(default, headers=AUTH).status_code == 400  # no image yet
    assert upload(drawn) == 200
    assert upload(drawn) == 400  # LINE takes one image per menu
    assert httpx.post(default, headers=AUTH).status_code == 200


def test_the_image_is_drawn_small_enough_and_its_font_ships_with_the_package() -> None:
    assert font_path().is_file() and font_path().stat().st_size > 4_000_000
    assert (font_path().parent / "IPA_Font_License_Agreement_v1.0.txt").is_file()
    assert len(draw_image(layout())) < 1_000_000
    assert (WIDTH, HEIGHT) == (2500, 843)
    assert data_host("https://api.line.me") == "https://api-data.line.me"
    assert data_host("http://127.0.0.1:9/") == "http://127.0.0.1:9"


# What the areas send, answered by the engine (on the database under test: SQLite, or PostgreSQL)
@pytest.fixture
def chat(desk: DeskConfig, clock: FixedClock, db: Database) -> Chat:
    return Chat(IntakeEngine(desk, clock), db)


def menu_text(label: str) -> str:
    return dict(texts.MENU_ITEMS)[label]


def conversation_step(chat: Chat, db: Database) -> str | None:
    with db.session() as session:
        contact = get_or_create_contact(session=session, channel=chat.channel, external_id=chat.user)
        conversation = get_conversation(session=session, contact_id=contact.id)
        return conversation.step if conversation else None


def test_consult_starts_the_intake(chat: Chat, db: Database) -> None:
    chat.say(menu_text(texts.MENU_CONSULT))
    assert "個人情報の取り扱い" in chat.text
    assert [b.label for b in chat.buttons()] == [texts.CONSENT_YES, texts.CONSENT_NO]
    assert conversation_step(chat, db) == Step.CONSENT


def test_inquiry_answers_the_desks_phone_hours_and_mail_and_offers_to_consult(
    chat: Chat, desk: DeskConfig, db: Database
) -> None:
    chat.say(menu_text(texts.MENU_INQUIRY))
    assert len(chat.replies) == 1
    for shown in (desk.desk.name, desk.desk.phone, desk.desk.hours, desk.desk.email):
        assert shown in chat.text
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]
    assert conversation_step(chat, db) is None
    chat.tap(texts.START_BUTTON)
    assert "個人情報の取り扱い" in chat.text


def test_bookings_is_not_taken_for_a_new_request_and_says_where_to_ask(
    chat: Chat, desk: DeskConfig, db: Database
) -> None:
    chat.say(menu_text(texts.MENU_BOOKINGS))  # 予約確認 holds 予約, a word that starts the intake
    assert "予約の確認" in chat.text and desk.desk.phone in chat.text and desk.desk.hours in chat.text
    assert "個人情報" not in chat.text
    assert conversation_step(chat, db) is None
    assert [b.label for b in chat.buttons()] == [texts.START_BUTTON]


@pytest.mark.parametrize("label", [texts.MENU_CONSULT, texts.MENU_BOOKINGS, texts.MENU_INQUIRY])
def test_a_menu_tap_in_the_middle_of_the_intake_is_answered_and_the_question_asked_again(
    chat: Chat, db: Database, label: str
) -> None:
    Owner(chat).walk_to(Step.COMPANY)
    assert texts.ASK_COMPANY in chat.text
    chat.say(menu_text(label))
    assert chat.replies[-1].text.startswith(texts.ASK_COMPANY)  # not taken for the company's name
    assert len(chat.replies) == 2 and texts.ASK_COMPANY not in chat.replies[0].text
    assert conversation_step(chat, db) == Step.COMPANY
    chat.say("さつま商店")
    assert texts.ASK_COMPANY not in chat.text  # the intake goes on from where it was


# The simulator shows the same menu, sending the same texts
def test_the_simulator_shows_the_menu_under_the_chat(client: TestClient) -> None:
    page = client.get("/").text
    for label, text in texts.MENU_ITEMS:
        assert f'<button type="button" class="line-richmenu-item" data-text="{text}">{label}</button>' in page
    assert 'id="menu-toggle"' in page and 'aria-controls="richmenu"' in page
    script = client.get("/static/simulator.js").text
    assert 'querySelectorAll("[data-text]")' in script and "menuToggle" in script


def test_what_the_simulators_menu_sends_is_answered(client: TestClient, desk: DeskConfig) -> None:
    client.post("/sim/api/start")

    def say(text: str) -> str:
        response = client.post("/sim/api/message", json={"kind": "text", "text": text})
        assert response.status_code == 200, response.text
        return "\n".join(m["text"] for m in response.json()["messages"])

    assert desk.desk.email in say(menu_text(texts.MENU_INQUIRY))
    assert "予約の確認" in say(menu_text(texts.MENU_BOOKINGS))
    assert "個人情報の取り扱い" in say(menu_text(texts.MENU_CONSULT))
