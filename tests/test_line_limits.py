"""LINE's message limits have one copy, in handlers/line/render.py: no other module names them, restates
them as a number beside the word LINE, or pages buttons by them. A source scan (nothing is imported)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from config.desk import BUTTON_LABEL_MAX
from handlers.line import render

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "config", "handlers", "reporting", "scheduling", "storage")
LINE_ONLY = ROOT / "handlers" / "line"
LIMITS = {
    name: value for name, value in vars(render).items() if name.startswith("MAX_") and type(value) is int
}
# A number that is one of LINE's limits, on a line that speaks of LINE (code or comment).
_LINE_WORD = re.compile(r"\bLINE\b")


def _modules() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if LINE_ONLY not in path.parents and "migrations" not in path.parts
    )


def _names(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name.rsplit(".", 1)[-1])
    return found


def _restated(source: str) -> list[tuple[int, str]]:
    numbers = {str(v) for v in LIMITS.values()}
    hits = []
    for number, line in enumerate(source.splitlines(), 1):
        # (a slice's bound, as in `body[:300]`, cuts a text short: it states no limit)
        if _LINE_WORD.search(line) and set(re.findall(r"(?<![:\[])\b\d+\b", line)) & numbers:
            hits.append((number, line.strip()))
    return hits


def test_the_scan_knows_lines_limits_and_sees_every_package() -> None:
    assert {"MAX_MESSAGES", "MAX_QUICK_REPLIES", "MAX_LABEL", "MAX_TEXT", "MAX_DATA"} <= set(LIMITS)
    scanned = {path.relative_to(ROOT).parts[0] for path in _modules()}
    assert scanned == set(PACKAGES)
    assert ROOT / "bot" / "steps.py" in _modules() and ROOT / "handlers" / "web" / "form.py" in _modules()
    # The scan would find what the review found: a copy of the limits, and a page size made to fit LINE.
    copied = (
        "MAX_QUICK_REPLIES = 13\nPAGE_SIZE = 11  # room for the page buttons in LINE's 13 quick replies\n"
    )
    assert "MAX_QUICK_REPLIES" in _names(ast.parse(copied)) and [n for n, _ in _restated(copied)] == [2]


def test_no_line_limit_outside_handlers_line() -> None:
    problems = []
    for path in _modules():
        source = path.read_text(encoding="utf-8")
        where = path.relative_to(ROOT)
        problems += [f"{where}: names {name}" for name in sorted(_names(ast.parse(source)) & set(LIMITS))]
        problems += [f"{where}:{n}: {line}" for n, line in _restated(source)]
    assert problems == []


def test_every_label_the_desk_allows_fits_lines_buttons() -> None:
    assert BUTTON_LABEL_MAX <= render.MAX_LABEL
