"""Block Kit's documented limits, checked as Slack checks them: each problem is one message in Slack's own
form, `[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.

Covered: the blocks of messages (50), modals and home tabs (100); section (text 3,000, fields 10 of 2,000),
header (150), actions (25 elements), context (10 elements), divider, image, input, rich_text; buttons (text
75, action_id 255, value 2,000, url 3,000), selects and their options, text inputs, date and time pickers;
block_id 255 and unique in a message, action_id unique in a block; a modal's title, submit and close (24),
callback_id (255) and private_metadata (3,000).
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100

_SELECTS = {
    "static_select",
    "multi_static_select",
    "users_select",
    "multi_users_select",
    "conversations_select",
    "multi_conversations_select",
    "channels_select",
    "multi_channels_select",
    "external_select",
    "multi_external_select",
}
_PICKERS = {"datepicker", "timepicker", "datetimepicker"}
_INPUT_ELEMENTS = (
    _SELECTS
    | _PICKERS
    | {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "checkboxes",
        "radio_buttons",
    }
)
_ACTION_ELEMENTS = _SELECTS | _PICKERS | {"button", "overflow", "checkboxes", "radio_buttons"}
_ACCESSORIES = _SELECTS | _PICKERS | {"button", "overflow", "checkboxes", "radio_buttons", "image"}


class _Check:
    """Collects problems, each with the JSON pointer of what is wrong."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, where: str, problem: str) -> None:
        self.errors.append(f"[ERROR] {problem} [json-pointer:{where}]")

    def string(self, value: Any, where: str, limit: int, *, required: bool = True) -> None:
        if value is None:
            if required:
                self.fail(where, "missing required field")
        elif not isinstance(value, str):
            self.fail(where, "must be a string")
        elif len(value) > limit:
            self.fail(where, f"must be less than {limit + 1} characters")
        elif required and not value:
            self.fail(where, "must be more than 0 characters")

    def text(self, value: Any, where: str, limit: int, *, plain: bool = False, required: bool = True) -> None:
        """A text object: plain_text (or mrkdwn unless `plain`), its text 1 to `limit` characters."""
        if value is None:
            if required:
                self.fail(where, "missing required field")
            return
        if not isinstance(value, dict):
            self.fail(where, "must be an object")
            return
        kinds = ("plain_text",) if plain else ("plain_text", "mrkdwn")
        if value.get("type") not in kinds:
            self.fail(f"{where}/type", f"must be one of {', '.join(kinds)}")
        self.string(value.get("text"), f"{where}/text", limit)

    def items(self, value: Any, where: str, limit: int, *, least: int = 1) -> list[Any]:
        if not isinstance(value, list):
            self.fail(where, "must be an array")
            return []
        if len(value) > limit:
            self.fail(where, f"no more than {limit} items allowed")
        elif len(value) < least:
            self.fail(where, f"must provide at least {least} items")
        return value


def message_blocks(blocks: Any) -> list[str]:
    """What Slack would say is wrong with a message's blocks (empty when they are valid)."""
    return _blocks(blocks, "/blocks", MESSAGE_BLOCKS, surface="message")


def view_problems(view: Any, *, where: str = "/view") -> list[str]:
    """What Slack would say is wrong with a modal or home tab view (empty when it is valid)."""
    check = _Check()
    if not isinstance(view, dict):
        check.fail(where, "must be an object")
        return check.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        check.fail(f"{where}/type", "must be one of modal, home")
        return check.errors
    if kind == "modal":
        check.text(view.get("title"), f"{where}/title", 24, plain=True)
        check.text(view.get("submit"), f"{where}/submit", 24, plain=True, required=False)
        check.text(view.get("close"), f"{where}/close", 24, plain=True, required=False)
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or [])
        if has_input and view.get("submit") is None:
            check.fail(f"{where}/submit", "submit is required when an input block is within the blocks array")
    check.string(view.get("callback_id"), f"{where}/callback_id", 255, required=False)
    check.string(view.get("private_metadata"), f"{where}/private_metadata", 3000, required=False)
    check.string(view.get("external_id"), f"{where}/external_id", 255, required=False)
    return check.errors + _blocks(view.get("blocks"), f"{where}/blocks", VIEW_BLOCKS, surface=kind)


def _blocks(blocks: Any, where: str, limit: int, *, surface: str) -> list[str]:
    check = _Check()
    seen: set[str] = set()
    for i, block in enumerate(check.items(blocks, where, limit, least=0 if surface != "message" else 1)):
        here = f"{where}/{i}"
        if not isinstance(block, dict):
            check.fail(here, "must be an object")
            continue
        block_id = block.get("block_id")
        check.string(block_id, f"{here}/block_id", 255, required=False)
        if isinstance(block_id, str):
            if block_id in seen:
                check.fail(f"{here}/block_id", "duplicate block_id")
            seen.add(block_id)
        _block(check, block, here, surface)
    return check.errors


def _block(check: _Check, block: dict[str, Any], here: str, surface: str) -> None:
    kind = block.get("type")
    if kind == "section":
        if block.get("text") is None and block.get("fields") is None:
            check.fail(here, "must provide either text or fields")
        check.text(block.get("text"), f"{here}/text", 3000, required=False)
        if block.get("fields") is not None:
            for j, item in enumerate(check.items(block["fields"], f"{here}/fields", 10)):
                check.text(item, f"{here}/fields/{j}", 2000)
        if block.get("accessory") is not None:
            _element(check, block["accessory"], f"{here}/accessory", _ACCESSORIES)
    elif kind == "header":
        check.text(block.get("text"), f"{here}/text", 150, plain=True)
    elif kind == "actions":
        actions: set[str] = set()
        for j, element in enumerate(check.items(block.get("elements"), f"{here}/elements", 25)):
            _element(check, element, f"{here}/elements/{j}", _ACTION_ELEMENTS)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in actions:
                    check.fail(f"{here}/elements/{j}/action_id", "duplicate action_id")
                actions.add(action_id)
    elif kind == "context":
        for j, element in enumerate(check.items(block.get("elements"), f"{here}/elements", 10)):
            if isinstance(element, dict) and element.get("type") == "image":
                _image(check, element, f"{here}/elements/{j}", key="image_url")
            else:
                check.text(element, f"{here}/elements/{j}", 3000)
    elif kind == "image":
        _image(check, block, here, key="image_url")
        check.text(block.get("title"), f"{here}/title", 2000, plain=True, required=False)
    elif kind == "input":
        if surface == "message":
            check.fail(f"{here}/type", "input blocks are only allowed in modals and home tabs")
        check.text(block.get("label"), f"{here}/label", 2000, plain=True)
        check.text(block.get("hint"), f"{here}/hint", 2000, plain=True, required=False)
        _element(check, block.get("element"), f"{here}/element", _INPUT_ELEMENTS)
    elif kind == "divider":
        pass
    elif kind == "rich_text":
        check.items(block.get("elements"), f"{here}/elements", 10_000)
    else:
        check.fail(f"{here}/type", f"unsupported block type: {kind}")


def _image(check: _Check, image: dict[str, Any], here: str, *, key: str) -> None:
    check.string(image.get(key), f"{here}/{key}", 3000)
    check.string(image.get("alt_text"), f"{here}/alt_text", 2000)


def _element(check: _Check, element: Any, here: str, allowed: set[str]) -> None:
    if not isinstance(element, dict):
        check.fail(here, "missing required field" if element is None else "must be an object")
        return
    kind = element.get("type")
    if kind not in allowed:
        check.fail(f"{here}/type", f"unsupported element type here: {kind}")
        return
    if kind == "image":
        _image(check, element, here, key="image_url")
        return
    check.string(element.get("action_id"), f"{here}/action_id", 255, required=False)
    if element.get("placeholder") is not None:
        check.text(element["placeholder"], f"{here}/placeholder", 150, plain=True)
    if kind == "button":
        check.text(element.get("text"), f"{here}/text", 75, plain=True)
        check.string(element.get("value"), f"{here}/value", 2000, required=False)
        check.string(element.get("url"), f"{here}/url", 3000, required=False)
        if element.get("style") not in (None, "primary", "danger"):
            check.fail(f"{here}/style", "must be one of primary, danger")
    elif kind in ("static_select", "multi_static_select"):
        groups = element.get("option_groups")
        if groups is not None:
            for g, group in enumerate(check.items(groups, f"{here}/option_groups", 100)):
                where = f"{here}/option_groups/{g}"
                check.text(group.get("label"), f"{where}/label", 75, plain=True)
                _options(check, group.get("options"), f"{where}/options", 100)
        else:
            _options(check, element.get("options"), f"{here}/options", 100)
    elif kind == "overflow":
        _options(check, element.get("options"), f"{here}/options", 5)
    elif kind in ("checkboxes", "radio_buttons"):
        _options(check, element.get("options"), f"{here}/options", 10, plain=False)
    elif kind == "plain_text_input":
        max_length = element.get("max_length")
        if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= 3000):
            check.fail(f"{here}/max_length", "must be between 1 and 3000")


def _options(check: _Check, options: Any, here: str, limit: int, *, plain: bool = True) -> None:
    """Option objects: text 75 (plain_text, except in radio buttons and checkboxes), value 150."""
    for k, option in enumerate(check.items(options, here, limit)):
        where = f"{here}/{k}"
        if not isinstance(option, dict):
            check.fail(where, "must be an object")
            continue
        check.text(option.get("text"), f"{where}/text", 75, plain=plain)
        check.string(option.get("value"), f"{where}/value", 150)
        check.text(option.get("description"), f"{where}/description", 75, plain=True, required=False)
