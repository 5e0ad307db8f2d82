"""Dependencies point one way (DESIGN.md): handlers → bot → scheduling → storage, and reporting → storage.

Every module of every package is read with `ast` (nothing is imported, so a module behind a lazy or a
TYPE_CHECKING import is checked too). A layer may import the layers below it, never one above or beside it:

- `storage/` imports nothing of ours;
- `config/` (the desk's YAML and its typed model) imports nothing of ours either, and every layer but
  `storage/` may read it: the code has bot/, scheduling/ and handlers/ reading it, and storage/ none;
- only `handlers/` imports a web framework, a server or a LINE or Slack SDK.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# What each of our packages may import of ours (besides itself).
ALLOWED: dict[str, frozenset[str]] = {
    "handlers": frozenset({"bot", "scheduling", "storage", "reporting", "config"}),
    "bot": frozenset({"scheduling", "storage", "config"}),
    "scheduling": frozenset({"storage", "config"}),
    "reporting": frozenset({"storage", "config"}),
    "storage": frozenset(),
    "config": frozenset(),
}
# Third-party packages only the outer ring may import.
CHANNEL_AND_WEB = frozenset({"fastapi", "starlette", "linebot", "slack_bolt", "slack_sdk", "uvicorn"})


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    imports: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.imports}"


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute names an import statement reaches (relative imports resolved against `module`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level == 0:
            return [node.module or ""]
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        target = ".".join([*base, node.module] if node.module else base)
        return [target]
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
        and node.args
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    ):
        return [node.args[0].value]
    return []


def violations(root: Path, allowed: dict[str, frozenset[str]] = ALLOWED) -> list[Violation]:
    """Every import in the packages under `root` that breaks the layering."""
    found: list[Violation] = []
    for package in sorted(allowed):
        for path in sorted((root / package).rglob("*.py")):
            module = _module_name(root, path)
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                for name in _imported(node, module, path.name == "__init__.py"):
                    top = name.split(".")[0]
                    ours = top in allowed and top != package and top not in allowed[package]
                    outer = package != "handlers" and top in CHANNEL_AND_WEB
                    if ours or outer:
                        found.append(Violation(module, getattr(node, "lineno", 0), name))
    return found


def test_every_module_keeps_to_its_layer() -> None:
    assert [str(v) for v in violations(ROOT)] == []


def test_every_layer_is_checked() -> None:
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()} - {"tests", "benchmarks"}
    assert packages == set(ALLOWED)
    assert sum(1 for package in ALLOWED for _ in (ROOT / package).rglob("*.py")) > 60


def _tree(root: Path, files: dict[str, str]) -> Path:
    for package in ALLOWED:
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    return root


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("storage/models.py", "from bot.texts import GREETING\n", "storage.models:1 imports bot.texts"),
        ("storage/clock.py", "import config.desk\n", "storage.clock:1 imports config.desk"),
        ("scheduling/jobs.py", "\n\nfrom bot import engine\n", "scheduling.jobs:3 imports bot"),
        ("bot/engine.py", "import handlers.settings\n", "bot.engine:1 imports handlers.settings"),
        ("reporting/monthly.py", "from scheduling import slots\n", "reporting.monthly:1 imports scheduling"),
        ("config/desk.py", "from storage.clock import JST\n", "config.desk:1 imports storage.clock"),
        ("bot/messages.py", "from linebot.v3 import messaging\n", "bot.messages:1 imports linebot.v3"),
        ("scheduling/web.py", "import fastapi\n", "scheduling.web:1 imports fastapi"),
        ("storage/outbox.py", "import slack_sdk\n", "storage.outbox:1 imports slack_sdk"),
        (
            "bot/slots.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from starlette.requests import Request\n",
            "bot.slots:3 imports starlette.requests",
        ),
        (
            "scheduling/lazy.py",
            "def f() -> None:\n    from handlers.line import client\n",
            "scheduling.lazy:2 imports handlers.line",
        ),
        ("storage/sub/deep.py", "from ...bot import texts\n", "storage.sub.deep:1 imports bot"),
        (
            "bot/dyn.py",
            "import importlib\nimportlib.import_module('handlers.app')\n",
            "bot.dyn:2 imports handlers.app",
        ),
    ],
)
def test_the_checker_finds_a_planted_violation(
    tmp_path: Path, relative: str, source: str, expected: str
) -> None:
    root = _tree(tmp_path, {relative: source})
    assert [str(v) for v in violations(root)] == [expected]


def test_the_checker_lets_each_layer_import_the_ones_below(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "handlers/app.py": "import fastapi, uvicorn\nfrom bot import engine\nimport reporting, storage\n",
            "bot/engine.py": "from scheduling import slots\nfrom storage import models\nimport config.desk\n",
            "scheduling/slots.py": "from storage.clock import JST\nfrom config.desk import Desk\n",
            "reporting/monthly.py": "from storage import models\nfrom config import desk\n",
            "storage/models.py": "from . import base\nfrom .clock import JST\nimport sqlalchemy\n",
            "config/desk.py": "import yaml\nfrom .scheduling import Rules\n",
        },
    )
    assert violations(root) == []


def _our_modules() -> list[tuple[str, ast.AST]]:
    return [
        (str(path.relative_to(ROOT)), ast.parse(path.read_text(encoding="utf-8")))
        for package in sorted(ALLOWED)
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def test_japan_time_is_one_zone_defined_once() -> None:
    """storage.clock.JST is the one Japan time zone; nobody makes their own."""
    makers = [
        name
        for name, tree in _our_modules()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) == "ZoneInfo"
    ]
    assert makers == ["storage/clock.py"]


def test_channels_are_named_by_the_enum() -> None:
    """No bare channel string: `channel="line"` or `CHANNEL = "web"` would drift from storage.channels."""
    from storage.channels import Channel

    names = {c.value for c in Channel}
    bare = [
        f"{name}:{node.lineno}"
        for name, tree in _our_modules()
        for node in ast.walk(tree)
        if (
            isinstance(node, ast.keyword)
            and node.arg == "channel"
            and isinstance(node.value, ast.Constant)
            and node.value.value in names
        )
        or (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "CHANNEL" for t in node.targets)
            and isinstance(node.value, ast.Constant)
        )
    ]
    assert bare == []
