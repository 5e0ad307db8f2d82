"""The rich menu under the LINE chat: its image drawn here with the shipped font, created through the
Messaging API and made every user's default, replacing the menus an earlier run made.

The items (label, text sent) are `bot.texts.MENU_ITEMS`, which the simulator shows too. A run creates the new
menu, uploads its image, makes it the default and only then deletes the old ones, so owners never see the
chat without a menu; a menu whose image could not be uploaded is deleted again.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from linebot.v3.messaging import (
    ApiClient,
    Configuration,
    MessageAction,
    MessagingApi,
    MessagingApiBlob,
    RichMenuArea,
    RichMenuBounds,
    RichMenuRequest,
    RichMenuSize,
)
from PIL import Image, ImageDraw, ImageFont

from bot import texts

WIDTH, HEIGHT = 2500, 843  # LINE's compact size: one row of large, easily tapped areas
MARKER = "madoguchi:"  # how a run recognises the menus it made before (the start of `name`)
CHAT_BAR_TEXT = "メニュー"  # LINE: at most 14 characters
MAX_IMAGE_BYTES = 1_000_000  # LINE: at most 1 MB
_LIVE_API = "https://api.line.me"
_LIVE_DATA_API = "https://api-data.line.me"

_BACKGROUND = (255, 255, 255)
_INK = (38, 50, 56)
_ACCENTS = ((6, 199, 85), (33, 113, 181), (230, 126, 34), (142, 68, 173))  # one per area, in turn
_RULE = (207, 216, 220)


def font_path() -> Path:
    """IPAexGothic, shipped as package data with its licence (config/fonts/); reporting uses it too."""
    return Path(str(resources.files("config") / "fonts" / "ipaexg.ttf"))


@dataclass(frozen=True)
class MenuArea:
    label: str  # drawn on the image
    text: str  # what tapping it sends, as if the owner typed it
    x: int
    width: int


def layout(items: Sequence[tuple[str, str]] = texts.MENU_ITEMS) -> list[MenuArea]:
    """One row of equal areas across the menu (three today; a fourth, セミナー, fits the same way)."""
    count = len(items)
    edges = [round(i * WIDTH / count) for i in range(count + 1)]
    return [MenuArea(label, text, edges[i], edges[i + 1] - edges[i]) for i, (label, text) in enumerate(items)]


def draw_image(areas: Sequence[MenuArea]) -> bytes:
    """The menu's PNG: each area a coloured icon above its label, large enough for a small phone."""
    image = Image.new("RGB", (WIDTH, HEIGHT), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    longest = max(len(area.label) for area in areas)
    size = min(150, int(min(area.width for area in areas) * 0.8 / max(longest, 1)))
    font = ImageFont.truetype(str(font_path()), size)
    for i, area in enumerate(areas):
        accent = _ACCENTS[i % len(_ACCENTS)]
        centre = area.x + area.width // 2
        if i:
            draw.line([(area.x, 90), (area.x, HEIGHT - 90)], fill=_RULE, width=6)
        _icon(draw, area.label, centre, 290, accent)
        draw.text(
            (centre, 640),
            area.label,
            font=font,
            fill=_INK,
            anchor="mm",
            stroke_width=max(size // 40, 1),
            stroke_fill=_INK,
        )
        draw.rounded_rectangle([area.x + 60, HEIGHT - 40, area.x + area.width - 60, HEIGHT - 22], 9, accent)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    data = out.getvalue()
    if len(data) > MAX_IMAGE_BYTES:  # LINE refuses it: say so here rather than after creating a menu
        raise ValueError(f"the rich menu image is {len(data)} bytes, over LINE's {MAX_IMAGE_BYTES}")
    return data


def _icon(draw: ImageDraw.ImageDraw, label: str, cx: int, cy: int, colour: tuple[int, int, int]) -> None:
    """A plain pictogram in a coloured disc: a speech bubble, a calendar, an envelope, else a star."""
    r = 190
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=colour)
    white = (255, 255, 255)
    if label == texts.MENU_CONSULT:  # a speech bubble with three dots
        draw.rounded_rectangle([cx - 110, cy - 80, cx + 110, cy + 60], 40, white)
        draw.polygon([(cx - 50, cy + 50), (cx - 80, cy + 110), (cx + 5, cy + 55)], white)
        for dx in (-60, 0, 60):
            draw.ellipse([cx + dx - 16, cy - 26, cx + dx + 16, cy + 6], fill=colour)
    elif label == texts.MENU_BOOKINGS:  # a calendar page with a tick
        draw.rounded_rectangle([cx - 100, cy - 85, cx + 100, cy + 95], 22, white)
        draw.rectangle([cx - 100, cy - 45, cx + 100, cy - 30], fill=colour)
        for dx in (-55, 55):
            draw.rounded_rectangle([cx + dx - 12, cy - 115, cx + dx + 12, cy - 60], 10, white)
        draw.line([(cx - 45, cy + 25), (cx - 10, cy + 60), (cx + 55, cy - 5)], fill=colour, width=22)
    elif label == texts.MENU_INQUIRY:  # an envelope
        draw.rounded_rectangle([cx - 115, cy - 80, cx + 115, cy + 80], 18, white)
        draw.line(
            [(cx - 100, cy - 62), (cx, cy + 12), (cx + 100, cy - 62)], fill=colour, width=20, joint="curve"
        )
    else:  # a star, for what comes later (セミナー) until it has a pictogram of its own
        points = [
            (cx + (90 if j % 2 == 0 else 38) * math.sin(j * math.pi / 5),
             cy - (90 if j % 2 == 0 else 38) * math.cos(j * math.pi / 5))
            for j in range(10)
        ]  # fmt: skip
        draw.polygon(points, fill=white)


def menu_request(areas: Sequence[MenuArea], *, now: datetime) -> RichMenuRequest:
    """The rich menu object: one message action per area, named with the marker and the time of the run."""
    return RichMenuRequest(
        size=RichMenuSize(width=WIDTH, height=HEIGHT),
        selected=True,
        name=f"{MARKER} {'・'.join(a.label for a in areas)} ({now:%Y-%m-%d %H:%M} UTC)",
        chat_bar_text=CHAT_BAR_TEXT,
        areas=[
            RichMenuArea(
                bounds=RichMenuBounds(x=a.x, y=0, width=a.width, height=HEIGHT),
                action=MessageAction(label=a.label, text=a.text),
            )
            for a in areas
        ],
    )


def data_host(base_url: str) -> str:
    """LINE takes images on a host of its own (api-data); a stand-in (LINE_API_BASE_URL) serves both."""
    base = base_url.rstrip("/")
    return _LIVE_DATA_API if base == _LIVE_API else base


@dataclass(frozen=True)
class Installed:
    menu_id: str
    replaced: list[str]  # the ids of the earlier menus deleted


def install_rich_menu(*, base_url: str, access_token: str, now: datetime | None = None) -> Installed:
    """Creates the menu, uploads its image, makes it the default, then deletes the menus made before.

    Raises linebot's ApiException when LINE refuses a step (nothing of the new menu is left behind unless
    the default was already switched to it)."""
    areas = layout()
    image = draw_image(areas)
    request = menu_request(areas, now=now or datetime.now(UTC))
    timeout = (5.0, 30.0)
    api_client = ApiClient(Configuration(host=base_url.rstrip("/"), access_token=access_token))
    data_client = ApiClient(Configuration(host=data_host(base_url), access_token=access_token))
    try:
        api = MessagingApi(api_client)
        blob = MessagingApiBlob(data_client)
        listed = api.get_rich_menu_list(_request_timeout=timeout).richmenus
        old = [m.rich_menu_id for m in listed if m.name.startswith(MARKER)]
        menu_id = api.create_rich_menu(request, _request_timeout=timeout).rich_menu_id
        try:
            blob.set_rich_menu_image(
                menu_id, image, _headers={"Content-Type": "image/png"}, _request_timeout=timeout
            )
            api.set_default_rich_menu(menu_id, _request_timeout=timeout)
        except Exception:
            api.delete_rich_menu(menu_id, _request_timeout=timeout)
            raise
        for old_id in old:
            api.delete_rich_menu(old_id, _request_timeout=timeout)
        return Installed(menu_id, old)
    finally:
        api_client.close()
        data_client.close()
