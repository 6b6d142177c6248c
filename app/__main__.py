"""Command line: `python -m app token|serve|worker|migrate|rotate-keys|deliver|openapi`."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from pathlib import Path

from app.core.config import Settings


def _token(args: argparse.Namespace) -> int:
    from app.core.security import mint_dev_token

    settings = Settings()
    if settings.is_production:
        print("refusing: development tokens are not available in production", file=sys.stderr)
        return 2
    print(mint_dev_token(settings, args.company, args.user, args.ttl))
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = Settings()
    port = args.port or settings.port
    if "api_base_url" not in settings.model_fields_set:
        # OAuth redirects and the emulator's URLs must name the port actually served.
        os.environ["API_BASE_URL"] = f"http://localhost:{port}"
    # On SIGTERM uvicorn shuts down gracefully, restores the handler it found and raises the
    # signal again: with this handler, a clean stop exits 0 instead of "killed by SIGTERM".
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    uvicorn.run(
        "app.main:serve_app",
        factory=True,
        host=args.host,
        port=port,
        proxy_headers=True,
        log_config=None,
    )
    return 0


def _worker(_: argparse.Namespace) -> int:
    import asyncio

    from app.core.crypto import TokenCipher
    from app.core.logging import configure_logging
    from app.main import uses_emulator, with_emulator
    from app.runtime import run_worker

    settings = Settings()
    configure_logging(settings.log_level, secrets=settings.secret_values)
    if uses_emulator(settings):
        # Development: TikTok is the emulator the API process serves at API_BASE_URL.
        settings = with_emulator(settings)
    cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())
    return asyncio.run(run_worker(settings, cipher))


def _migrate(_: argparse.Namespace) -> int:
    from app.core.migrations import upgrade_to_head

    upgrade_to_head(Settings().database_url)
    return 0


def _rotate_keys(_: argparse.Namespace) -> int:
    import asyncio

    from app.core.crypto import TokenCipher
    from app.core.db import create_engine, create_sessionmaker
    from app.tokens.rotation import progress_bar, rotate_keys

    settings = Settings()

    async def run() -> int:
        engine = create_engine(settings)
        try:
            cipher = TokenCipher(settings.integration_encryption_key.get_secret_value())
            report = await rotate_keys(create_sessionmaker(engine), cipher, progress_bar)
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

    return asyncio.run(run())


def _deliver(args: argparse.Namespace) -> int:
    import asyncio

    from app.core.logging import configure_logging
    from app.leads.delivery import run_worker

    settings = Settings()
    configure_logging(settings.log_level, secrets=settings.secret_values)
    if not settings.crm_leads_webhook_url:
        print("nothing to do: CRM_LEADS_WEBHOOK_URL is not set", file=sys.stderr)
        return 2
    return asyncio.run(run_worker(settings, once=args.once))


def _openapi(args: argparse.Namespace) -> int:
    from app.main import create_app

    document = json.dumps(create_app(Settings()).openapi(), indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(document)
    else:
        Path(args.output).write_text(document)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="print a development CRM token")
    token.add_argument("--company", required=True, help="company id claim")
    token.add_argument("--user", default="dev-user", help="user id (sub claim)")
    token.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    token.set_defaults(handler=_token)

    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=None, help="defaults to PORT (8000)")
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser(
        "worker", help="run every background job (refresh, webhooks, leads, CRM delivery), no HTTP"
    )
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    rotate = commands.add_parser("rotate-keys", help="re-encrypt all tokens under the first key")
    rotate.set_defaults(handler=_rotate_keys)

    deliver = commands.add_parser("deliver", help="push stored leads to the CRM until stopped")
    deliver.add_argument("--once", action="store_true", help="deliver what is due now, then exit")
    deliver.set_defaults(handler=_deliver)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", default="openapi.json")
    openapi.set_defaults(handler=_openapi)

    args = parser.parse_args(argv)
    handler = args.handler
    return int(handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
