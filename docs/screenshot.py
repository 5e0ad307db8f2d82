# ruff: noqa: T201
"""Makes docs/simulator.png, the README's picture of the browser simulator, from the code as it is now.

The picture is the one the simulator's browser test takes (tests/web/test_simulator_browser.py): an owner's
request approved on the coordinator's card, and the owner's confirmation in the LINE pane. It needs what
`make install` installs (Debian's Chromium, Japanese and emoji fonts, Playwright) and, optionally, pngquant
and optipng (`apt-get install pngquant optipng`) to make the PNG small.

Run from the checkout: `.venv/bin/python docs/screenshot.py [out.png]` (default docs/simulator.png).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST = "tests/web/test_simulator_browser.py::test_the_coordinator_approves_on_the_card_and_the_owner_reads_the_confirmation"


def shrink(out: Path) -> None:
    """Fewer colours and a tighter deflate, when pngquant and optipng are installed."""
    if shutil.which("pngquant"):
        subprocess.run(
            ["pngquant", "--force", "--skip-if-larger", "--output", str(out), "256", str(out)], check=False
        )
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(out)], check=True)


def main() -> None:
    out = (Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "simulator.png").resolve()
    env = {**os.environ, "MADOGUCHI_SCREENSHOT": str(out)}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", TEST], cwd=ROOT, env=env, check=False)
    if run.returncode != 0:
        sys.exit("the browser test failed: no picture taken")
    shrink(out)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
