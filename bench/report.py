"""From raw runs to the table: per-round ratios, medians over rounds, integrity checks.

A ratio is taken within a round (a figure over the baseline measured minutes before it),
then the median over rounds: noise from the rest of the machine hits both sides of a
ratio alike, so ratios hold across machines where absolute rates do not.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

TIMES = "\u00d7"  # the multiplication sign, as the issue writes ratios
# The issue's "today" column (issue 9, Speed and Targets), quoted as written there.
ISSUE_TODAY = {
    "b1_pg": f"0.07{TIMES} (~300 vs ~4,200 req/s), p99 ~860 ms",
    "b1_sqlite": f"0.056{TIMES} (230 req/s), p99 ~1.1 s",
    "b1_pg_worker": "—",
    "b2_accounts": f"0.056{TIMES}, p99 341 ms",
    "storm": "146 s for 2,000",
    "ack": "0.89 s",
    "rss": "128 MB",
}
TARGET = {
    "b1_pg": f"≥ 0.5{TIMES}, p99 ≤ 50 ms @ 50 conns",
    "b1_sqlite": f"≥ 0.3{TIMES}, no request over 1 s",
    "b1_pg_worker": f"≥ 0.5{TIMES}, p99 ≤ 50 ms @ 50 conns",
    "b2_accounts": f"≥ 0.25{TIMES}, p99 ≤ 5{TIMES} p50",
    "storm": "≤ 60 s for 10,000, 0 double",
    "ack": "≤ 0.3 s",
    "delivered": "all delivered ≤ 3 s",
    "rss": "≤ 150 MB, flat across rounds",
}
EXTRAPOLATE_TO = 10_000
FLAT_MB = 5.0


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def summarize(results: dict[str, Any]) -> dict[str, Any]:
    """The figures of the table, from the raw results (medians over rounds)."""
    summary: dict[str, Any] = {}
    rounds: list[dict[str, dict[str, Any]]] = results.get("rounds", [])
    if rounds:
        labels = rounds[0].keys()
        summary["runs"] = {
            label: {
                key: round(_median([r[label][key] for r in rounds]), 3)
                for key in ("rps", "p50_ms", "p99_ms", "max_ms", "cpu_ms_per_request")
            }
            for label in labels
        }
        pairs = {
            "b1_pg": ("b1_pg", "limit_pg"),
            "b1_sqlite": ("b1_sqlite", "limit_sqlite"),
            "b1_pg_worker": ("b1_pg_worker", "limit_pg"),
            "b2_accounts": ("b2_accounts", "bare"),
            "b2_accounts_read_limit": ("b2_accounts", "read_limit"),
            "read_limit": ("read_limit", "bare"),
            "b2_profile": ("b2_profile", "bare"),
            "b2_videos": ("b2_videos", "videos_direct"),
        }
        # An earlier run's JSON (the committed baseline) may lack runs added since.
        summary["ratios"] = {
            name: round(_median([r[a]["rps"] / r[b]["rps"] for r in rounds]), 4)
            for name, (a, b) in pairs.items()
            if a in labels and b in labels
        }
        # One connection: what the service adds to each call, with nothing queued.
        summary["videos_overhead_p50_ms"] = round(
            _median(
                [
                    r["b2_videos_1conn"]["p50_ms"] - r["videos_direct_1conn"]["p50_ms"]
                    for r in rounds
                ]
            ),
            1,
        )
        summary["ingest"] = {
            label: {
                "ok": sum(r[label]["ok"] for r in rounds),
                "rows_stored": sum(r[label]["extra"]["rows_stored"] for r in rounds),
            }
            for label in ("b1_pg", "b1_sqlite", "b1_pg_worker", "limit_pg", "limit_sqlite")
            if label in labels
        }
        if "b1_pg_worker" in labels:
            summary["worker_cpu_ms_per_request"] = round(
                _median([r["b1_pg_worker"]["extra"]["worker_cpu_ms_per_request"] for r in rounds]),
                3,
            )
        every_run = [run for r in rounds for run in r.values()]
        summary["problems"] = [
            f"{run['label']}: {problem}" for run in every_run for problem in _problems(run)
        ]
        summary["generator_cpu_max"] = max(run["generator_cpu"] for run in every_run)
    leads = results.get("leads", [])
    if leads:
        delivered = [b["delivered_seconds"] for b in leads if b["delivered_seconds"] is not None]
        summary["leads"] = {
            "ack_seconds": _median([b["ack_seconds"] for b in leads]),
            "ack_cpu_seconds": _median([b["ack_cpu_seconds"] for b in leads]),
            "delivered_cpu_seconds": _median([b["delivered_cpu_seconds"] for b in leads]),
            "delivered_seconds": _median(delivered) if len(delivered) == len(leads) else None,
            "all_new": all(b["status"] == 200 and b["new"] == b["leads"] for b in leads),
        }
    if results.get("storm_error"):
        summary.setdefault("problems", []).append(f"B3 failed: {results['storm_error']}")
    storm = results.get("storm")
    if storm and storm["rate_per_second"]:
        summary["storm_extrapolated_seconds"] = round(EXTRAPOLATE_TO / storm["rate_per_second"])
    return summary


def _problems(run: dict[str, Any]) -> list[str]:
    problems = []
    if run["failed"]:
        problems.append(f"{run['failed']} answers other than 200")
    if run["exhausted"]:
        problems.append("the pool of unique bodies ran out (raise its size)")
    errors = {name: count for name, count in run["errors"].items() if count}
    if errors:
        problems.append(f"socket errors {errors}")
    stored = run["extra"].get("rows_stored")
    if stored is not None and stored != run["ok"]:
        problems.append(f"{stored} rows stored for {run['ok']} answers 200")
    if run["extra"].get("upstream_calls"):
        problems.append(f"{run['extra']['upstream_calls']} reads went to TikTok, not the database")
    if run["extra"].get("drained") and run["sent"] != run["ok"] + run["failed"]:
        problems.append(f"{run['sent'] - run['ok'] - run['failed']} requests left unanswered")
    return problems


def _rows(summary: dict[str, Any], results: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    runs, ratios = summary.get("runs"), summary.get("ratios")
    if runs and ratios:
        for key, name, base in (
            ("b1_pg", "B1 webhook ingest / limit route, PostgreSQL", "limit_pg"),
            ("b1_sqlite", "B1 on SQLite / limit route on SQLite", "limit_sqlite"),
            (
                "b1_pg_worker",
                "B1 API process + worker process (production topology) / limit route, PostgreSQL",
                "limit_pg",
            ),
        ):
            if key not in ratios:  # a run from before this figure existed
                continue
            run = runs[key]
            rows.append(
                (
                    name,
                    ISSUE_TODAY[key],
                    f"{ratios[key]:.3f}{TIMES} ({run['rps']:.0f} vs "
                    f"{runs[base]['rps']:.0f} req/s), "
                    f"p50 {run['p50_ms']:.0f} ms, p99 {run['p99_ms']:.0f} ms, "
                    f"max {run['max_ms']:.0f} ms; {_cpu(run, runs[base])}"
                    + (
                        f"; the worker applied them with {summary['worker_cpu_ms_per_request']:.2f}"
                        " ms CPU/request"
                        if key == "b1_pg_worker"
                        else ""
                    ),
                    TARGET[key],
                )
            )
            counts = summary["ingest"][key]
            equal = "equal" if counts["ok"] == counts["rows_stored"] else "NOT EQUAL"
            rows.append(
                (
                    f"{name.split(' /')[0]}: rows stored vs 200s",
                    "—",
                    f"{counts['rows_stored']:,} vs {counts['ok']:,} ({equal})",
                    "equal",
                )
            )
        for key, name, base, today, target in (
            ("b2_accounts", "B2 accounts list / bare GET", "bare", ISSUE_TODAY["b2_accounts"],
             TARGET["b2_accounts"]),
            ("b2_profile", "B2 tiktok-profile (stored) / bare GET", "bare", "—", "—"),
            ("b2_videos", "B2 video list via service / emulator direct", "videos_direct", "—",
             "—"),
        ):  # fmt: skip
            run = runs[key]
            measured = (
                f"{ratios[key]:.3f}{TIMES} ({run['rps']:.0f} vs {runs[base]['rps']:.0f} req/s), "
                f"p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms "
                f"(p99 = {run['p99_ms'] / max(run['p50_ms'], 0.001):.1f}{TIMES} p50); "
                + (
                    _cpu(run, runs[base])
                    if key != "b2_videos"  # the emulator's CPU is no baseline for ours
                    else f"service CPU/request {run['cpu_ms_per_request']:.2f} ms"
                )
            )
            if key == "b2_videos":
                alone, direct = runs["b2_videos_1conn"], runs["videos_direct_1conn"]
                measured += (
                    f"; one connection: p50 {alone['p50_ms']:.1f} vs {direct['p50_ms']:.1f} ms "
                    f"direct (+{summary['videos_overhead_p50_ms']:.1f} ms)"
                )
            rows.append((name, today, measured, target))
        if "b2_accounts_read_limit" in ratios:
            floor, mine = runs["read_limit"], runs["b2_accounts"]
            rows.append(
                (
                    "B2 accounts list / read limit (one asyncpg SELECT of the page, bare FastAPI)",
                    "—",
                    f"{ratios['b2_accounts_read_limit']:.3f}{TIMES} ({mine['rps']:.0f}"
                    f" vs {floor['rps']:.0f} req/s); the read limit itself is "
                    f"{ratios['read_limit']:.3f}{TIMES} the bare GET, "
                    f"p99 {floor['p99_ms']:.1f} ms; {_cpu(mine, floor)}",
                    "—",
                )
            )
    storm = results.get("storm")
    if storm:
        wall = storm["wall_seconds"]
        done = f"{wall:.1f} s" if wall is not None else f"timeout, {storm['refreshed']:,} done"
        rows.append(
            (
                f"B3 refresh storm, {storm['processes']} processes, "
                f"{storm['upstream_latency_ms']} ms upstream",
                ISSUE_TODAY["storm"],
                f"{done} for {storm['accounts']:,} ({storm['rate_per_second']:.1f}/s, job "
                f"interval {storm['refresh_interval_s']:g} s"
                + (
                    f", TOKEN_REFRESH_CONCURRENCY={storm['concurrency']}"
                    if storm.get("concurrency")
                    else ""
                )
                + "); "
                f"{storm['upstream_refresh_calls']:,} upstream refresh calls, "
                f"{storm['double_refreshes']} double, {storm['reauth_required']} flagged",
                TARGET["storm"],
            )
        )
        if "storm_extrapolated_seconds" in summary:
            rows.append(
                (
                    f"B3 at {EXTRAPOLATE_TO:,} accounts (extrapolation)",
                    "—",
                    f"≈ {summary['storm_extrapolated_seconds']:,} s "
                    f"(≈ {summary['storm_extrapolated_seconds'] / 60:.0f} min) if the measured "
                    "rate held: a linear extrapolation, not a measurement",
                    "≤ 60 s",
                )
            )
    leads = summary.get("leads")
    if leads:
        delivered = leads["delivered_seconds"]
        count = results["leads"][0]["leads"]
        rows.append(
            (
                f"B4 {count:,}-lead webhook acknowledged",
                ISSUE_TODAY["ack"],
                f"{leads['ack_seconds']:.2f} s (service CPU {leads['ack_cpu_seconds']:.2f} s)"
                + ("" if leads["all_new"] else " (NOT all new)"),
                TARGET["ack"],
            )
        )
        rows.append(
            (
                f"B4 all {count:,} delivered to the CRM",
                "—",
                f"{delivered:.2f} s (service CPU {leads['delivered_cpu_seconds']:.2f} s)"
                if delivered is not None
                else "not all delivered",
                TARGET["delivered"],
            )
        )
    rss = results.get("rss_mb")
    if rss and rss.get("after_round"):
        after = rss["after_round"]
        spread = max(after) - min(after)
        shape = "flat" if spread <= FLAT_MB else f"grows {spread:.0f} MB"
        tail = f", after B4 {rss['after_leads']:.0f}" if "after_leads" in rss else ""
        rows.append(
            (
                "B5 RSS of the service (PostgreSQL)",
                ISSUE_TODAY["rss"],
                f"idle {rss['idle']:.0f} MB; after rounds "
                + " / ".join(f"{value:.0f}" for value in after)
                + f"{tail} MB ({shape} across rounds)",
                TARGET["rss"],
            )
        )
    return rows


def _cpu(run: dict[str, Any], base: dict[str, Any]) -> str:
    """Server CPU per request against the baseline's: the same comparison as the rates, but
    blind to how much CPU the rest of the machine left each server."""
    mine, theirs = run["cpu_ms_per_request"], base["cpu_ms_per_request"]
    return (
        f"server CPU/request {mine:.2f} vs {theirs:.2f} ms ({theirs / max(mine, 1e-9):.3f}{TIMES})"
    )


def _table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def render(results: dict[str, Any], before: dict[str, Any] | None = None) -> str:
    """The table; with `before` (an earlier run's JSON, e.g. the committed baseline.json)
    its figures get a column of their own beside this run's."""
    summary = summarize(results)
    results["summary"] = summary
    rows: list[tuple[str, ...]] = list(_rows(summary, results))
    header: tuple[str, ...] = ("", "today (issue)", "measured", "target")
    if before is not None:
        earlier = {row[0]: row[2] for row in _rows(summarize(before), before)}
        rows = [(row[0], row[1], earlier.get(row[0], "—"), row[2], row[3]) for row in rows]
        header = ("", "today (issue)", "baseline (measured)", "measured", "target")
    parts = [
        "## Benchmarks (ratios to baselines measured in the same run; median of "
        f"{len(results.get('rounds', [])) or 1} rounds)",
        "",
        _table(rows, header),
    ]
    runs = summary.get("runs")
    if runs:
        parts += [
            "",
            "Baselines (absolute, this machine, this run; medians): "
            + ", ".join(
                f"{label} {runs[label]['rps']:.0f} req/s (p99 {runs[label]['p99_ms']:.0f} ms)"
                for label in ("bare", "read_limit", "limit_pg", "limit_sqlite", "videos_direct")
                if label in runs
            )
            + f". wrk used at most {summary['generator_cpu_max']:.0%} of a core.",
        ]
    problems = summary.get("problems")
    parts += ["", "Problems: " + ("; ".join(problems) if problems else "none")]
    parts += [
        f"Service measured: {results.get('service', 'unknown')}. "
        f"Runtime: {results.get('runtime_seconds', 0):.0f} s."
    ]
    return "\n".join(parts)


def write(results: dict[str, Any], table: str, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "latest.md").write_text(table + "\n")
    (directory / "latest.json").write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
