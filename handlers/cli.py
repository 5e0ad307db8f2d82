"""The `madoguchi` command."""

from __future__ import annotations

import argparse
import gc
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

from pydantic import ValidationError

from handlers.settings import Settings, StartupError, get_settings

if TYPE_CHECKING:
    from reporting.periods import ReportPeriod

log = logging.getLogger("madoguchi")


def _setup_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class ServerStack(TypedDict):
    loop: str
    http: str


def _importable(module: str) -> bool:
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def server_stack() -> ServerStack:
    """uvicorn's event loop and HTTP parser: uvloop and httptools when installed (about twice the requests
    a second of asyncio and h11, which remain the fallback)."""
    stack = ServerStack(
        loop="uvloop" if _importable("uvloop") else "asyncio",
        http="httptools" if _importable("httptools") else "h11",
    )
    log.info("HTTP server: %s event loop, %s parser", stack["loop"], stack["http"])
    return stack


def freeze_start_up_objects() -> None:
    """Moves what start-up made (modules, the ORM's mappings, the settings, the app) out of the garbage
    collector's sight, once it is built and before a long-running process begins its work: it lives as
    long as the process, yet every full collection walked all of it again (a fifth of the reminders
    job's CPU for 10,000 reminders, see docs/jobs.md)."""
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace) -> int:
    """Runs the web server (and, unless told not to, the scheduler)."""
    import uvicorn

    from handlers.app import create_app, start_up_lines
    from handlers.scheduler import build_scheduler
    from handlers.services import build_services

    settings = get_settings()
    services = build_services(settings)
    if args.no_drain and services.db.is_sqlite:
        raise StartupError(
            "--no-drain needs PostgreSQL: on SQLite one process stores and answers the webhooks"
        )
    app = create_app(
        services, scheduler=None if args.no_scheduler else build_scheduler(services), drain=not args.no_drain
    )
    for line in start_up_lines(settings, host=args.host, port=args.port or settings.port):
        log.info("%s", line)
    freeze_start_up_objects()
    uvicorn.run(app, host=args.host, port=args.port or settings.port, log_level="info", **server_stack())
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Drains the LINE inbox and outbox, and delivers the Slack cards when Slack is configured (no HTTP),
    until SIGTERM or SIGINT."""
    import signal
    import threading

    from handlers.line.worker import build_line_runtime
    from handlers.services import build_services
    from handlers.slack.delivery import build_slack_runtime

    services = build_services(get_settings())
    if services.line_api is None:
        raise StartupError("`madoguchi worker` needs LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = build_line_runtime(services)
    cards = build_slack_runtime(services)  # None unless Slack and its intake channel are configured
    freeze_start_up_objects()
    runtime.start(webhooks=False)
    if cards is not None:
        cards.start()
        log.info("Slack cards are delivered by this worker too")
    while not stop.wait(1.0):
        pass
    if cards is not None:
        cards.stop()
    runtime.stop()
    services.db.dispose()
    return 0


def cmd_scheduler(args: argparse.Namespace) -> int:
    """Runs the desk's scheduled jobs (exactly one such process per deployment) until SIGTERM or SIGINT."""
    import signal
    import threading

    from apscheduler.events import EVENT_SCHEDULER_START

    from handlers.scheduler import build_scheduler
    from handlers.services import build_services

    services = build_services(get_settings())
    scheduler = build_scheduler(services, blocking=True)
    stopping = threading.Event()
    names = ", ".join(job.id for job in scheduler.get_jobs())

    def shut_down(*_: object) -> None:
        stopping.set()
        if scheduler.running:
            scheduler.shutdown(wait=False)

    def started(_: object) -> None:
        # Said once it runs, so a SIGTERM after this line stops it; one that came during start-up stops it now.
        log.info("scheduler started: %s", names)
        if stopping.is_set():
            scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, shut_down)
    scheduler.add_listener(started, EVENT_SCHEDULER_START)
    freeze_start_up_objects()
    scheduler.start()
    services.db.dispose()
    log.info("scheduler stopped")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Brings the database schema up to date."""
    from storage.database import upgrade_schema

    upgrade_schema(get_settings().database_url)
    log.info("database schema is up to date")
    return 0


def cmd_keys_generate(args: argparse.Namespace) -> int:
    """Prints a new key for MADOGUCHI_PII_KEY."""
    from storage.crypto import generate_key

    sys.stdout.write(generate_key() + "\n")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """The intake conversation in the terminal."""
    from handlers.services import build_services
    from handlers.terminal_chat import run_chat

    return run_chat(build_services(get_settings()), input_fn=input, output=sys.stdout)


def cmd_outbox_retry(args: argparse.Namespace) -> int:
    """Re-queues parked outbox rows (all failed and rejected ones, or one by id) for the running senders."""
    from sqlalchemy import select

    from storage.clock import SystemClock
    from storage.database import Database
    from storage.models import OutboxMessage
    from storage.outbox import requeue_parked

    db = Database(get_settings().database_url)
    try:
        with db.session() as session:
            if args.id is not None:
                row = session.execute(
                    select(OutboxMessage.status, OutboxMessage.delivered_via).where(
                        OutboxMessage.id == args.id
                    )
                ).first()
                if row is None:
                    sys.stderr.write(f"no outbox message {args.id}\n")
                    return 1
                if row.status == "pending":
                    sys.stderr.write(f"outbox message {args.id} is already waiting to be sent\n")
                    return 1
                if row.status == "sent":
                    sys.stderr.write(f"outbox message {args.id} was already sent ({row.delivered_via})\n")
                    return 1
            count = requeue_parked(session=session, now=SystemClock().now(), message_id=args.id)
    finally:
        db.dispose()
    sys.stdout.write(f"{count} message(s) queued to be sent again by the running server or worker\n")
    return 0


def cmd_jobs_list(args: argparse.Namespace) -> int:
    """Lists the scheduled jobs: each one's name (for `jobs run`) and what it does."""
    from scheduling.jobs import JOBS

    for job in JOBS:
        sys.stdout.write(f"{job.id:<18} {job.description}\n")
    return 0


def _parse_at(value: str) -> datetime:
    from storage.clock import JST

    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from exc
    return at if at.tzinfo is not None else at.replace(tzinfo=JST)  # a bare time is Japan time


def cmd_jobs_run(args: argparse.Namespace) -> int:
    """Runs one job once, as if at --at (what it enqueues is sent at once by the running senders)."""
    from handlers.scheduler import job_context
    from handlers.services import build_services
    from scheduling.jobs import JOBS_BY_NAME, configure_jobs, run_job
    from storage.clock import FixedClock

    job = JOBS_BY_NAME.get(args.name)
    if job is None:
        sys.stderr.write(
            f"the job {args.name!r} does not exist (see `madoguchi jobs list`): nothing was run\n"
        )
        return 1
    services = build_services(get_settings())
    try:
        configure_jobs(job_context(services, FixedClock(args.at) if args.at is not None else None))
        freeze_start_up_objects()
        summary = run_job(args.name)
    finally:
        services.db.dispose()
    sys.stdout.write(f"{args.name}: {summary}\n")
    return 0


def cmd_line_rich_menu(args: argparse.Namespace) -> int:
    """Creates the rich menu (its image drawn here), makes it every user's default, deletes the old ones."""
    from linebot.v3.messaging import ApiException

    from handlers.line.richmenu import install_rich_menu

    settings = get_settings()
    if settings.line_channel_access_token is None:
        raise StartupError("`madoguchi line rich-menu` needs LINE_CHANNEL_ACCESS_TOKEN")
    try:
        installed = install_rich_menu(
            base_url=settings.line_api_base_url,
            access_token=settings.line_channel_access_token.get_secret_value(),
        )
    except ApiException as exc:
        body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else str(exc.body or "")
        sys.stderr.write(f"LINE refused the rich menu: {exc.status} {body[:300]}\n")
        return 1
    sys.stdout.write(
        f"rich menu {installed.menu_id} created and made every user's default; "
        f"{len(installed.replaced)} earlier menu(s) deleted\n"
    )
    return 0


def _run_report(args: argparse.Namespace, period_of: Callable[[], ReportPeriod]) -> int:
    """Writes one report file; says where, how many consultations, and for the internal copy that it was
    recorded in the audit."""
    import getpass
    from pathlib import Path

    from handlers.report_progress import ProgressBar
    from handlers.services import build_services
    from reporting.build import write_report

    try:
        period = period_of()
    except ValueError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    services = build_services(get_settings())
    bar = ProgressBar(sys.stderr, "明細")
    try:
        made = write_report(
            db=services.db,
            desk=services.desk,
            period=period,
            fmt=args.format,
            out=Path(args.out),
            now=services.clock.now(),
            include_personal=args.include_personal,
            bom=not args.no_bom,
            viewer=f"cli:{getpass.getuser()}",
            progress=bar,
        )
    finally:
        bar.close()
        services.db.dispose()
    sys.stdout.write(f"{made.path}: {made.summary.period.title}, 相談 {made.summary.total} 件\n")
    if args.include_personal and args.format != "pdf":
        sys.stdout.write("個人情報を含む内部用の写しです（閲覧記録に残しました）\n")
    return 0


def cmd_report_monthly(args: argparse.Namespace) -> int:
    """The month's report (Japan time) for the prefecture, as xlsx, PDF or CSV."""
    from reporting.build import period_for_month

    return _run_report(args, lambda: period_for_month(args.month))


def cmd_report_fiscal_year(args: argparse.Namespace) -> int:
    """The fiscal year's report (April to March), as xlsx, PDF or CSV."""
    from reporting.build import period_for_fiscal_year

    return _run_report(args, lambda: period_for_fiscal_year(args.year))


def cmd_demo_data(args: argparse.Namespace) -> int:
    """Fills the database with a fictitious year of the desk (the past twelve months and this one), replacing
    earlier demo data; refuses a database with real data unless --force (which keeps that data)."""
    from bot.demo_data import RealDataFound, generate_demo_data
    from handlers.report_progress import ProgressBar
    from handlers.services import build_services

    services = build_services(get_settings())
    bar = ProgressBar(sys.stderr, "デモデータ")
    bar.enabled = bar.enabled and sys.stdout.isatty()  # no bar when the output goes to a file or a pipe
    try:
        made = generate_demo_data(
            db=services.db,
            desk=services.desk,
            now=services.clock.now(),
            seed=args.seed,
            force=args.force,
            progress=bar,
        )
    except RealDataFound as exc:
        sys.stderr.write(
            f"the database holds data not made by demo-data ({exc.real.consultations} consultation(s), "
            f"{exc.real.contacts} contact(s)): nothing was written. Use an empty database, or --force to add "
            "the demo data beside it (it is kept; earlier demo data is replaced)\n"
        )
        return 1
    finally:
        bar.close()
        services.db.dispose()
    replaced = f", replacing {made.replaced} earlier demo consultation(s)" if made.replaced else ""
    sys.stdout.write(
        f"demo data (seed {made.seed}) for {made.first_month} to {made.last_month}: {made.consultations} "
        f"consultations from {made.contacts} contacts, {made.bookings} bookings, {made.messages} messages"
        f"{replaced}. References start with DEMO-. The month's report: madoguchi report monthly --month "
        f"{made.full_month} --format pdf --out report.pdf\n"
    )
    return 0


def _add_report_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="the reports for the prefecture (xlsx, PDF, CSV)")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    monthly = report_sub.add_parser("monthly", help="one Japan-time month")
    monthly.add_argument("--month", required=True, help="YYYY-MM")
    monthly.set_defaults(func=cmd_report_monthly)
    fiscal = report_sub.add_parser("fiscal-year", help="a fiscal year, April to March")
    fiscal.add_argument("--year", required=True, type=int, help="2026: April 2026 to March 2027")
    fiscal.set_defaults(func=cmd_report_fiscal_year)
    for command in (monthly, fiscal):
        command.add_argument("--format", required=True, choices=("xlsx", "pdf", "csv"))
        command.add_argument("--out", required=True, help="the file to write")
        command.add_argument(
            "--include-personal",
            action="store_true",
            help="the desk's internal copy, with contact names, phones and e-mails (recorded in the audit)",
        )
        command.add_argument("--no-bom", action="store_true", help="CSV: plain UTF-8, without the BOM")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madoguchi", description="Madoguchi: the consultation desk's assistant"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="default: $PORT or 8000")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run the scheduler in this process")
    serve.add_argument(
        "--no-drain",
        action="store_true",
        help="store LINE webhooks but leave answering them to `madoguchi worker` processes (PostgreSQL)",
    )
    serve.set_defaults(func=cmd_serve)

    sub.add_parser(
        "worker", help="drain the LINE inbox and outbox (and the Slack cards), without HTTP"
    ).set_defaults(func=cmd_worker)
    sub.add_parser("scheduler", help="run the scheduled jobs (exactly one per deployment)").set_defaults(
        func=cmd_scheduler
    )

    db = sub.add_parser("db", help="database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply the migrations").set_defaults(func=cmd_db_upgrade)

    keys = sub.add_parser("keys", help="encryption keys")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    keys_sub.add_parser("generate", help="print a new MADOGUCHI_PII_KEY").set_defaults(func=cmd_keys_generate)

    sub.add_parser("chat", help="the intake conversation in the terminal").set_defaults(func=cmd_chat)

    outbox = sub.add_parser("outbox", help="messages waiting to be sent")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", required=True)
    retry = outbox_sub.add_parser("retry", help="send parked messages again (failed or rejected)")
    which = retry.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every parked message")
    which.add_argument("id", nargs="?", type=int, help="one message, by its outbox id")
    retry.set_defaults(func=cmd_outbox_retry)

    jobs = sub.add_parser("jobs", help="the scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True)
    jobs_sub.add_parser("list", help="the jobs by name, with what each does").set_defaults(func=cmd_jobs_list)
    run = jobs_sub.add_parser("run", help="run one job once (what it enqueues is sent at once)")
    run.add_argument("name")
    run.add_argument(
        "--at",
        type=_parse_at,
        default=None,
        help="run as if at this ISO 8601 time (Japan time without an offset); only the job's notion of now",
    )
    run.set_defaults(func=cmd_jobs_run)

    line = sub.add_parser("line", help="the LINE official account")
    line_sub = line.add_subparsers(dest="line_command", required=True)
    line_sub.add_parser(
        "rich-menu", help="create the menu under the chat and make it every user's default (replaces ours)"
    ).set_defaults(func=cmd_line_rich_menu)
    _add_report_commands(sub)
    demo = sub.add_parser(
        "demo-data",
        help="a fictitious year of the desk (the past twelve months and this one), to try the reports",
    )
    demo.add_argument("--seed", type=int, default=1, help="the same seed gives the same data (default 1)")
    demo.add_argument(
        "--force", action="store_true", help="add the demo data to a database that holds real data (kept)"
    )
    demo.set_defaults(func=cmd_demo_data)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _setup_logging()
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except StartupError as exc:
        log.error("cannot start: %s", exc)
        return 2
    except ValidationError as exc:  # a setting of the environment that cannot work: named, with why
        if exc.title != Settings.__name__:
            raise
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            log.error("cannot start: %s: %s", where, error["msg"])
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
