"""Command line: `python -m app token|serve|worker|migrate|rotate-keys|deliver|openapi`.

Typer for the commands (help, `--version`, typed options); rich for progress bars, drawn
only when stderr is a terminal: piped or logged, a command prints one plain line instead.
Commands that run the service log JSON lines like the service (`app.core.logging`); their
own messages to the operator are plain text, results on stdout and problems on stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from app import __version__
from app.core.config import Settings

PROG = "python -m app"
cli = typer.Typer(
    name=PROG,
    help="TikTok integration service.",
    add_completion=False,
    no_args_is_help=True,
    # Rich tracebacks print local variables, and locals may hold secrets.
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"tiktok-integration {__version__}")
        raise typer.Exit


@cli.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """TikTok integration service."""


def _logging(settings: Settings) -> None:
    from app.core.logging import configure_logging

    configure_logging(settings.log_level, secrets=settings.secret_values)


@contextmanager
def progress(description: str, unit: str) -> Iterator[Callable[[int, int], None]]:
    """A `progress(done, total)` callback: a bar on a terminal, else one line at the end."""
    console = Console(stderr=True)
    if not console.is_terminal:
        last = (0, 0)

        def remember(done: int, total: int) -> None:
            nonlocal last
            last = (done, total)

        yield remember
        print(f"{description}: {last[0]}/{last[1]} {unit}", file=sys.stderr)
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@cli.command()
def token(
    company: Annotated[str, typer.Option(help="Company id claim.")],
    user: Annotated[str, typer.Option(help="User id (sub claim).")] = "dev-user",
    ttl: Annotated[int, typer.Option(help="Lifetime in seconds.")] = 3600,
) -> None:
    """Print a development CRM token (never in production)."""
    from app.core.security import mint_dev_token

    settings = Settings()
    if settings.is_production:
        print("refusing: development tokens are not available in production", file=sys.stderr)
        raise typer.Exit(2)
    print(mint_dev_token(settings, company, user, ttl))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[
        int | None, typer.Option(help="Port; defaults to PORT (8000).", show_default=False)
    ] = None,
) -> None:
    """Serve the API with uvicorn, and the background jobs unless BACKGROUND_JOBS_ENABLED=false."""
    import uvicorn

    if port is not None:
        # The app reads its settings again: API_BASE_URL, when unset, follows PORT.
        os.environ["PORT"] = str(port)
    settings = Settings()
    # Before uvicorn's first line, so its lines are our JSON too (log_config=None: uvicorn
    # configures no logging of its own; our access line replaces uvicorn's).
    _logging(settings)
    # On SIGTERM uvicorn shuts down gracefully, restores the handler it found and raises the
    # signal again: with this handler, a clean stop exits 0 instead of "killed by SIGTERM".
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        host=host,
        port=settings.port,
        proxy_headers=True,
        log_config=None,
        access_log=False,
    )


@cli.command()
def worker(
    metrics_port: Annotated[
        int | None,
        typer.Option(
            help="Serve this process's /metrics (jobs, TikTok calls, token refreshes, the "
            "process) on this port.",
            show_default=False,
        ),
    ] = None,
    metrics_host: Annotated[str, typer.Option(help="Interface of --metrics-port.")] = "0.0.0.0",  # noqa: S104
) -> None:
    """Run every background job (refresh, webhooks, leads, CRM delivery), no HTTP."""
    from app.core.crypto import TokenCipher
    from app.core.metrics import serve_process_metrics
    from app.main import uses_emulator, with_emulator
    from app.runtime import freeze_startup_heap, run_worker

    settings = Settings()
    _logging(settings)
    if metrics_port is not None:
        serve_process_metrics(metrics_host, metrics_port)
    if uses_emulator(settings):
        # Development: TikTok is the emulator the API process serves at API_BASE_URL.
        settings = with_emulator(settings)
    cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())
    freeze_startup_heap()
    raise typer.Exit(asyncio.run(run_worker(settings, cipher)))


def _database(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


@cli.command()
def migrate(
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Apply nothing: exit 0 when the database is at head, 1 when migrations are "
            "pending, 2 when the database cannot be read.",
        ),
    ] = False,
) -> None:
    """Apply the database migrations (or, with --check, tell whether any are pending)."""
    import logging

    from app.core.migrations import migration_status, upgrade_to_head

    settings = Settings()
    _logging(settings)
    if not check:
        # Held at WARNING in the service (readiness probes open a migration context); here
        # its "Running upgrade" lines are the point.
        logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
        upgrade_to_head(settings.database_url)
        return
    try:
        status = asyncio.run(migration_status(settings))
    except Exception as exc:
        print(
            f"cannot read the migration state of {_database(settings)} ({type(exc).__name__})",
            file=sys.stderr,
        )
        raise typer.Exit(2) from None
    if status.at_head:
        print(f"database at head ({', '.join(status.heads)})")
        return
    current = ", ".join(status.current) or "none (never migrated)"
    if status.unknown:
        print(
            f"the database is at revision {', '.join(status.unknown)}, which these migrations "
            f"do not know (head {', '.join(status.heads)}): a newer release migrated it?",
            file=sys.stderr,
        )
    else:
        pending = "".join(f"  {migration}\n" for migration in status.pending)
        print(
            f"{len(status.pending)} migration(s) pending (database at {current}, head "
            f"{', '.join(status.heads)}):\n{pending}Run `{PROG} migrate`.",
            file=sys.stderr,
        )
    raise typer.Exit(1)


@cli.command()
def rotate_keys() -> None:
    """Re-encrypt every stored token under the first INTEGRATION_ENCRYPTION_KEY."""
    from app.core.crypto import TokenCipher
    from app.core.db import create_engine, create_sessionmaker
    from app.tokens.rotation import rotate_keys as rotate

    settings = Settings()

    async def run() -> int:
        engine = create_engine(settings)
        try:
            cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())
            with progress("re-encrypting tokens", "accounts") as step:
                report = await rotate(create_sessionmaker(engine), cipher, step)
        finally:
            await engine.dispose()
        print(f"re-encrypted {report.rotated} of {report.total} accounts under the current key")
        if report.unreadable:
            print(
                f"{report.unreadable} accounts hold tokens no configured key decrypts",
                file=sys.stderr,
            )
            return 1
        return 0

    raise typer.Exit(asyncio.run(run()))


@cli.command()
def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Push stored events to the CRM until stopped (SIGTERM/SIGINT)."""
    from app.events.delivery import run_worker

    settings = Settings()
    _logging(settings)
    if not settings.crm_url:
        print(
            "nothing to do: CRM_WEBHOOK_URL (or CRM_LEADS_WEBHOOK_URL) is not set",
            file=sys.stderr,
        )
        raise typer.Exit(2)
    raise typer.Exit(asyncio.run(run_worker(settings, once=once)))


@cli.command()
def openapi(
    output: Annotated[str, typer.Option(help="File to write, or - for stdout.")] = "openapi.json",
) -> None:
    """Write the OpenAPI document."""
    from app.main import create_app

    document = json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
    if output == "-":
        sys.stdout.write(document)
    else:
        Path(output).write_text(document)


if __name__ == "__main__":
    cli(prog_name=PROG)
