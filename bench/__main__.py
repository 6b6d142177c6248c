"""`python -m bench` (what `make bench` runs): every benchmark, then the table.

Progress goes to stderr; the table to stdout and to bench/results/latest.md, every raw
figure to bench/results/latest.json. When bench/results/baseline.json exists (the figures
of the service before the redesign), its figures are shown beside the new ones.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench import leads, refresh, report, source
from bench.load import require_wrk
from bench.procs import use_app_dir, wait_idle
from bench.rounds import Round, prepare_reads
from bench.stack import Stack

RESULTS = Path(__file__).with_name("results")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="rounds; figures are medians")
    parser.add_argument("--window", type=int, default=5, help="seconds of load per run")
    parser.add_argument(
        "--drain", type=int, default=3, help="seconds for in-flight webhooks to finish"
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--leads", type=int, default=1000, help="leads in the B4 webhook")
    parser.add_argument("--storm-accounts", type=int, default=500, help="B3's N")
    parser.add_argument("--storm-latency-ms", type=int, default=100)
    parser.add_argument(
        "--storm-interval",
        type=float,
        default=1.0,
        help="TOKEN_REFRESH_INTERVAL_SECONDS in B3 (the service's default is 60)",
    )
    parser.add_argument("--storm-timeout", type=float, default=300.0)
    parser.add_argument(
        "--storm-concurrency",
        type=int,
        default=None,
        help="B3: TOKEN_REFRESH_CONCURRENCY per process (default: the service's, 10)",
    )
    parser.add_argument(
        "--only", default="B1,B2,B3,B4", help="comma-separated subset (B5 rides on B1/B2)"
    )
    parser.add_argument(
        "--app-ref",
        help="measure the service as committed at this git ref (default: the work tree)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep", action="store_true", help="keep the work dir (server logs)")
    return parser.parse_args(argv)


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    only = {part.strip().upper() for part in args.only.split(",")}
    results: dict[str, Any] = {"settings": {k: str(v) for k, v in vars(args).items()}}
    async with AsyncExitStack() as exits:
        workdir = Path(tempfile.mkdtemp(prefix="bench-"))
        if args.keep:
            log(f"work dir (logs): {workdir}")
        else:
            exits.callback(shutil.rmtree, workdir, True)
        results["service"] = source.describe(args.app_ref)
        if args.app_ref:
            use_app_dir(source.snapshot(args.app_ref, workdir / "service-src"))
        stack = Stack(workdir, exits)
        log("starting: emulator, CRM receiver, baselines, service on PostgreSQL and SQLite")
        await stack.start()
        rss: dict[str, Any] = {"idle": round(stack.service_pg.rss_mb(), 1), "after_round": []}
        results["rss_mb"] = rss

        if only & {"B1", "B2"}:
            reads = await prepare_reads(stack)
            loads = Round(
                stack, reads, connections=args.connections, window=args.window, drain=args.drain
            )
            results["rounds"] = []
            for index in range(args.rounds):
                log(f"round {index + 1}/{args.rounds}: baselines, B1 ingest, B2 reads")
                runs = await loads.run()
                results["rounds"].append({label: run.as_dict() for label, run in runs.items()})
                await asyncio.to_thread(wait_idle, stack.under_test())
                rss["after_round"].append(round(stack.service_pg.rss_mb(), 1))

        if "B4" in only:
            advertiser = await leads.prepare(stack)
            results["leads"] = []
            for index in range(args.rounds):
                log(f"B4 {index + 1}/{args.rounds}: one webhook of {args.leads} leads")
                batch = await leads.one_batch(
                    stack, advertiser, leads=args.leads, round_index=index, give_up_after=120.0
                )
                results["leads"].append(batch.as_dict())
            rss["after_leads"] = round(stack.service_pg.rss_mb(), 1)

        if "B3" in only:
            log(f"B3: seeding {args.storm_accounts} connected accounts, then the storm")
            try:
                storm = await refresh.refresh_storm(
                    stack,
                    accounts=args.storm_accounts,
                    latency_ms=args.storm_latency_ms,
                    interval=args.storm_interval,
                    give_up_after=args.storm_timeout,
                    concurrency=args.storm_concurrency,
                )
            except Exception as exc:  # reported; the other figures still count
                log(f"B3 failed: {exc!r}")
                results["storm_error"] = repr(exc)[:500]
            else:
                results["storm"] = storm.as_dict()
        log("stopping")
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    require_wrk()
    started = time.monotonic()
    results = asyncio.run(measure(args))
    results["runtime_seconds"] = round(time.monotonic() - started, 1)
    baseline = args.output / "baseline.json"
    before = json.loads(baseline.read_text()) if baseline.exists() else None
    table = report.render(results, before)
    print(table)
    report.write(results, table, args.output)
    log(f"done in {results['runtime_seconds']:.0f} s; written to {args.output}/latest.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
