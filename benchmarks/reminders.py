# ruff: noqa: T201
"""Reminders due at once: time to enqueue them (the `reminders` job's run) and to drain them through the
LINE stand-in with 1 and with 4 `madoguchi worker` processes, beside a bare loop of the same push calls.

    .venv/bin/python -m benchmarks.reminders [--count 10000] [--database-url URL] [--processes 1,4]
                                             [--no-sqlite] [--baseline-threads 8]

On a fresh database per run (PostgreSQL at --database-url, then SQLite with one process), `count`
confirmed bookings of as many LINE owners are written straight into storage with their day-before
reminders armed (tests/line/reminder_load.py). The job runs once in this process, as `madoguchi jobs
run reminders --at` would, after start-up as the scheduler process does (its objects frozen out of
the garbage collector's sight), and is timed (enqueue); then the sending processes are started, and the drain
is timed from their launch (start-up included) until every outbox row is sent. Sends per second are counted
from the stand-in's first accepted push to its last. Duplicates: accepted pushes beyond one per owner
(must be 0). The baseline is the same LineApi.push calls (line-bot-sdk, the same stand-in) in a bare loop,
on one thread and on as many threads as one process's senders (MADOGUCHI_LINE_SENDERS, default 8).
The stand-in runs on threads of this process: its CPU use during the drain (this process's, 100 % = one core,
which its interpreter lock allows at most) and the workers' (together) show which side limits the drain.
Figures on a shared machine are noisy: run it twice.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select

from benchmarks.webhook import drop_postgres, fresh_postgres
from bot.messages import OutMessage
from handlers.cli import freeze_start_up_objects
from handlers.line.client import LineApi
from handlers.line.render import render_messages
from handlers.scheduler import job_context
from handlers.services import build_services
from handlers.settings import Settings
from storage.crypto import Keyring, configure_keyring
from storage.database import Database
from storage.models import OutboxMessage
from tests.conftest import TEST_KEY
from tests.line.conftest import ServeProcess, server_env
from tests.line.reminder_load import DUE_AT, armed_bookings, owner, start_together
from tests.line.standin import TOKEN, LineStandIn

TEXT = "【かごしまDX相談窓口】\n明日のご相談のお知らせです。\n日時：2月5日(金) 14:00〜15:00"
PRODUCTION = {
    "MADOGUCHI_LINE_LEASE": "30",
    "MADOGUCHI_LINE_READ_TIMEOUT": "10",
    "MADOGUCHI_LINE_CONNECT_TIMEOUT": "3",
    "MADOGUCHI_LINE_RETRY_BASE": "1",
    "MADOGUCHI_LINE_RETRY_CAP": "60",
}
SENDERS = 8  # MADOGUCHI_LINE_SENDERS' default: the sender threads of one process


def baseline(count: int, threads: int) -> float:
    """Pushes a second of a bare loop of LineApi.push calls to a fresh stand-in."""
    standin = LineStandIn().start()
    api = LineApi(base_url=standin.url, access_token=TOKEN, pool_size=max(threads, 8))
    messages = render_messages([OutMessage(TEXT).to_dict()])
    try:
        started = time.perf_counter()
        if threads == 1:
            for i in range(count):
                api.push(owner(i + 1), messages, str(uuid.uuid4()))
        else:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(lambda i: api.push(owner(i + 1), messages, str(uuid.uuid4())), range(count)))
        elapsed = time.perf_counter() - started
        assert len(standin.deliveries) == count
    finally:
        api.close()
        standin.close()
    return count / elapsed


def run_once(url: str, count: int, processes: int, workdir: Path, senders: int = SENDERS) -> dict[str, float]:
    """Enqueues `count` reminders in this process and drains them with `processes` workers."""
    t0 = time.perf_counter()
    armed_bookings(url, count)
    setup = time.perf_counter() - t0
    standin = LineStandIn().start()
    # The production timings of the delivery (the tests' short lease would let a slow call be claimed
    # again: no duplicate, thanks to the retry key, but a 409 and a second call), a short poll.
    env = (
        server_env(url, standin.url, workdir / "var") | PRODUCTION | {"MADOGUCHI_LINE_SENDERS": str(senders)}
    )
    workers = [ServeProcess(env, workdir, command="worker") for _ in range(processes)]
    db = Database(url)
    services = None
    try:
        services = build_services(Settings(_env_file=None, **env))  # type: ignore[call-arg, arg-type]
        context = job_context(services)
        assert context.send_reminders is not None
        freeze_start_up_objects()  # as `madoguchi scheduler` does before its jobs run
        started = time.perf_counter()
        summary = context.send_reminders(datetime.fromisoformat(DUE_AT))
        enqueue = time.perf_counter() - started
        assert summary == f"{count} sent", summary
        launched = time.perf_counter()
        start_together(workers, timeout=180)
        started_at, here_cpu = time.perf_counter(), time.process_time()
        workers_cpu = sum(cpu_seconds(w.proc.pid) for w in workers if w.proc is not None)
        deadline = time.monotonic() + 1800
        while True:
            with db.session() as session:
                sent = session.scalar(select(func.count()).where(OutboxMessage.status == "sent"))
            if sent == count:
                break
            assert time.monotonic() < deadline, f"{sent} of {count} sent"
            time.sleep(0.05)
        drain = time.perf_counter() - launched
        busy = time.perf_counter() - started_at
        standin_cpu = (time.process_time() - here_cpu) / busy
        workers_cpu = (
            sum(cpu_seconds(w.proc.pid) for w in workers if w.proc is not None) - workers_cpu
        ) / busy
        pushes = [d for d in standin.deliveries if d.kind == "push"]
        by_user = Counter(d.user_id for d in pushes)
        span = max(d.at for d in pushes) - min(d.at for d in pushes)
        conflicts = sum(1 for path, status, _ in standin.state.requests if status == 409)
    finally:
        for worker in workers:
            worker.stop()
        if services is not None:
            services.db.dispose()
        db.dispose()
        standin.close()
    return {
        "setup": setup,
        "enqueue": enqueue,
        "drain": drain,
        "sends_per_s": len(pushes) / span if span else float("inf"),
        "duplicates": len(pushes) - len(by_user),
        "owners": len(by_user),
        "conflicts": conflicts,
        "standin_cpu": standin_cpu,
        "workers_cpu": workers_cpu,
    }


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "MADOGUCHI_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server URL (each run makes and drops its own database); '' for none",
    )
    parser.add_argument("--processes", default="1,4", help="the numbers of worker processes on PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip the SQLite run")
    parser.add_argument("--baseline-threads", type=int, default=SENDERS)
    parser.add_argument("--senders", type=int, default=SENDERS, help="sender threads of each worker process")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    configure_keyring(Keyring([TEST_KEY]))  # the workers' key (server_env gives them the tests' key)
    print(f"reminders benchmark: {args.count} reminders due at once; {os.cpu_count()} CPUs")
    load = os.getloadavg()
    print(
        f"load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (a shared machine: figures are noisy)"
    )

    one = baseline(args.count, 1)
    many = baseline(args.count, args.baseline_threads)
    print(f"baseline: bare LineApi.push loop, 1 thread: {one:8.0f} pushes/s")
    print(f"baseline: bare LineApi.push loop, {args.baseline_threads} threads: {many:7.0f} pushes/s")

    runs: list[tuple[str, str, int]] = []
    if args.database_url:
        runs += [("PostgreSQL", args.database_url, int(p)) for p in args.processes.split(",")]
    if not args.no_sqlite:
        runs.append(("SQLite", "", 1))
    header = (
        f"{'database':<11}{'procs':>6}{'setup s':>9}{'enqueue s':>11}{'enq/s':>8}{'drain s':>9}"
        f"{'sends/s':>9}{'÷1 thread':>10}{f'÷{args.baseline_threads} threads':>12}{'dups':>6}{'409s':>6}"
        f"{'stand-in CPU':>13}{'workers CPU':>12}"
    )
    print(header)
    for name, base, procs in runs:
        with tempfile.TemporaryDirectory(prefix="madoguchi-bench-") as tmp:
            workdir = Path(tmp)
            url = fresh_postgres(base) if base else f"sqlite:///{workdir / 'bench.db'}"
            try:
                r = run_once(url, args.count, procs, workdir, args.senders)
            finally:
                if base:
                    drop_postgres(base, url)
        print(
            f"{name:<11}{procs:>6}{r['setup']:>9.1f}{r['enqueue']:>11.2f}{args.count / r['enqueue']:>8.0f}"
            f"{r['drain']:>9.1f}{r['sends_per_s']:>9.0f}{r['sends_per_s'] / one:>10.2f}"
            f"{r['sends_per_s'] / many:>12.2f}{r['duplicates']:>6}{r['conflicts']:>6}"
            f"{r['standin_cpu']:>12.0%}{r['workers_cpu']:>12.0%}",
            flush=True,
        )
        assert r["owners"] == args.count and r["duplicates"] == 0
    load = os.getloadavg()
    print(f"load average after: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    print("goal: enqueue 10,000 in under 2 s; 0 duplicates; drain limited by the stand-in, not by us")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    main()
