# ruff: noqa: T201
"""Makes docs/simulator.png, the README's picture of the browser simulator, from the code as it is now.

Needs, besides the project's own install (`make install`):
- Chromium: `apt-get install chromium` (or CHROMIUM=/path/to/chrome), driven headless over
  --remote-debugging-pipe, so nothing else is needed to talk to it;
- Japanese fonts: `apt-get install fonts-noto-cjk`;
- optionally pngquant and optipng (`apt-get install pngquant optipng`) to make the PNG small.

Run from the checkout: `.venv/bin/python docs/screenshot.py [out.png]` (default docs/simulator.png).
It starts `madoguchi serve` in demo mode on a fresh SQLite database and var dir in a temporary folder,
submits two earlier consultations through the simulator's API (so the coordinator pane is not empty),
walks a third owner up to the meeting times, and photographs that owner's chat in Chromium at 1200x900.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
WIDTH, HEIGHT = 1200, 900
COOKIE = "madoguchi_sim"  # handlers/web/simulator.py

# Each step is what the owner does: ("say", typed text) or ("tap", a quick-reply label).
Step = tuple[str, str]
INTRO: list[Step] = [("say", "相談したい"), ("tap", "同意する")]
EARLIER: list[list[Step]] = [
    [
        *INTRO,
        ("tap", "法人・屋号あり"),
        ("say", "有限会社さくらじま商店"),
        ("say", "桜島 太郎"),
        ("tap", "卸売・小売業"),
        ("say", "鹿屋"),
        ("tap", "6〜20人"),
        ("tap", "ネット販売・販路開拓"),
        ("tap", "特になし"),
        ("say", "ネットショップを始めて、県外にも特産品を売りたい"),
        ("tap", "まだこれから"),
        ("tap", "電話"),
        ("say", "0994-00-0000"),
        ("tap", "この内容で送信"),
    ],
    [
        *INTRO,
        ("tap", "個人で屋号なし"),
        ("say", "指宿 花子"),
        ("tap", "事業主と同じ"),
        ("tap", "宿泊・飲食"),
        ("say", "指宿市"),
        ("tap", "1〜5人"),
        ("tap", "ホームページ・SNS"),
        ("tap", "特になし"),
        ("say", "予約の受付をネットでしたい"),
        ("tap", "まだこれから"),
        ("tap", "メール"),
        ("say", "hanako@example.jp"),
        ("tap", "この内容で送信"),
    ],
]
SHOWN: list[Step] = [
    *INTRO,
    ("tap", "法人・屋号あり"),
    ("say", "株式会社きりしま製作所"),
    ("say", "霧島 一郎"),
    ("tap", "製造業"),
    ("say", "国分"),
    ("tap", "21〜50人"),
    ("tap", "業務効率化（会計・勤怠等）"),
    ("tap", "特になし"),
    ("say", "受発注と在庫を紙からクラウドに移したい"),
    ("tap", "検討中"),
    ("tap", "会社に来てほしい（訪問）"),
]
SHOWN_UNTIL = "ご都合のよい日時"  # the last reply must contain this: the meeting-time step


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(work: Path) -> dict[str, str]:
    """The environment of a demo with nothing of the caller's desk: no credentials, a database of its own."""
    prefixes = ("LINE_", "SLACK_", "MADOGUCHI_", "CALDAV_")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(prefixes) and k not in ("DATABASE_URL", "PORT")
    }
    env.update(
        DATABASE_URL=f"sqlite:///{work / 'madoguchi.db'}",
        MADOGUCHI_VAR_DIR=str(work / "var"),
        MADOGUCHI_DEMO="1",
    )
    return env


def start_server(work: Path, port: int) -> subprocess.Popen[bytes]:
    env = server_env(work)
    cli = [sys.executable, "-m", "handlers.cli"]
    log = (work / "server.log").open("wb")
    # The working directory is the temporary folder, so that no .env of the checkout is read.
    subprocess.run([*cli, "db", "upgrade"], cwd=work, env=env, stdout=log, stderr=log, check=True)
    server = subprocess.Popen(
        [*cli, "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler"],
        cwd=work,
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"madoguchi serve stopped: see {work / 'server.log'}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    sys.exit("madoguchi serve did not answer within 30 s")


def walk(base: str, steps: list[Step]) -> tuple[str, list[dict[str, Any]]]:
    """One owner's chat through the simulator's API; returns the owner's cookie and the last replies."""
    with httpx.Client(base_url=base, timeout=10) as client:
        replies = client.post("/sim/api/start").raise_for_status().json()["messages"]
        for kind, value in steps:
            if kind == "say":
                payload = {"kind": "text", "text": value}
            else:
                actions = replies[-1]["actions"] if replies else []
                found = [a for a in actions if a.get("type") == "button" and a["label"] == value]
                if not found:
                    labels = [a["label"] for a in actions]
                    sys.exit(
                        f"no button {value!r} after {replies[-1]['text'] if replies else ''!r}: {labels}"
                    )
                payload = {"kind": "postback", "data": found[0]["data"], "text": found[0]["display"]}
            replies = client.post("/sim/api/message", json=payload).raise_for_status().json()["messages"]
        return client.cookies[COOKIE], replies


class Chromium:
    """Headless Chromium spoken to with the DevTools protocol over a pipe (fd 3 in, fd 4 out)."""

    def __init__(self, profile: Path) -> None:
        binary = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
        if not binary:
            sys.exit("Chromium is needed: apt-get install chromium (or set CHROMIUM)")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def fds() -> None:  # in the child: the pipe ends on the descriptors Chromium reads and writes
            read, write = os.dup(to_chrome_r), os.dup(from_chrome_w)  # out of the way of 3 and 4 first
            os.dup2(read, 3)
            os.dup2(write, 4)

        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WIDTH},{HEIGHT}",
            "--remote-debugging-pipe",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            [binary, *flags],
            preexec_fn=fds,
            pass_fds=(3, 4),  # kept open in the child after preexec_fn
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._next_id = 0
        self._buffer = b""
        self.session = ""

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    sys.exit(f"Chromium closed the pipe during {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    sys.exit(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def open_page(self) -> None:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self.session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def close(self) -> None:
        try:
            self.call("Browser.close")
        finally:
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            os.close(self._to_chrome)
            os.close(self._from_chrome)


# Ready: the meeting-time chips are shown, the pane lists the earlier consultations, the fonts are in, and
# the chat's smooth scroll has reached its end (it takes a moment: the restored chat is long).
READY = (
    "document.fonts.status === 'loaded'"
    " && (c => c.scrollHeight - c.clientHeight - c.scrollTop < 2)(document.getElementById('chat'))"
    " && document.querySelectorAll('#quick .line-chip').length > 0"
    f" && document.querySelectorAll('#feed .slack-item').length >= {len(EARLIER)}"
    " && !document.querySelector('.line-typing')"
)


def photograph(base: str, cookie: str, out: Path, profile: Path) -> None:
    chrome = Chromium(profile)
    try:
        chrome.open_page()
        chrome.call("Network.setCookie", name=COOKIE, value=cookie, url=base, httpOnly=True, sameSite="Lax")
        chrome.call("Page.navigate", url=base + "/")
        deadline = time.monotonic() + 30
        while not chrome.evaluate(READY):
            if time.monotonic() > deadline:
                sys.exit("the simulator page did not show the meeting times and the pane within 30 s")
            time.sleep(0.2)
        errors = chrome.evaluate("[...document.querySelectorAll('.line-system')].map(e => e.textContent)")
        if errors:
            sys.exit(f"the chat shows an error: {errors}")
        time.sleep(0.3)  # the last paint
        shot = chrome.call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))
    finally:
        chrome.close()


def shrink(out: Path) -> None:
    """Fewer colours and a tighter deflate, when pngquant and optipng are installed."""
    if shutil.which("pngquant"):
        subprocess.run(
            ["pngquant", "--force", "--skip-if-larger", "--output", str(out), "256", str(out)], check=False
        )
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(out)], check=True)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "simulator.png"
    with tempfile.TemporaryDirectory(prefix="madoguchi-screenshot-") as folder:
        work = Path(folder)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = start_server(work, port)
        try:
            for steps in EARLIER:
                _, replies = walk(base, steps)
                if "受け付けました" not in replies[-1]["text"]:
                    sys.exit(f"an earlier consultation was not submitted: {replies[-1]['text']!r}")
            cookie, replies = walk(base, SHOWN)
            if SHOWN_UNTIL not in replies[-1]["text"]:
                sys.exit(f"the shown chat is not at the meeting times: {replies[-1]['text']!r}")
            photograph(base, cookie, out, work / "chromium")
        finally:
            server.terminate()
            server.wait(10)
    shrink(out)
    print(f"{out}: {out.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
