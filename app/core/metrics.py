"""The process's Prometheus instruments that code increments: TikTok calls, token
refreshes, background jobs. `/metrics` (app.health) adds the request metrics of
`app.core.observability`, the process and platform collectors, and business gauges it reads
from the database at scrape time.

These instruments count what this process did, wherever it was done (a request, a job, a
refresh task that outlived its request), so they are process-wide like the process
collector, not per application object: several apps in one process (tests) share them, and
`register_process_metrics` adds them to each app's registry. Labels are bounded sets (endpoint
names, job names, error codes, platforms), never ids or URLs.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
    start_http_server,
)

# Reads answer in well under a second; token grants may take up to a minute (see
# TIKTOK_TOKEN_TIMEOUT_SECONDS), so the buckets reach that far.
_UPSTREAM_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0)

TIKTOK_CALLS = Counter(
    "tiktok_requests_total",
    "HTTP requests to TikTok (each attempt) by endpoint and outcome (ok or the error code)",
    ["endpoint", "outcome"],
    registry=None,
)
TIKTOK_LATENCY = Histogram(
    "tiktok_request_duration_seconds",
    "Duration of each HTTP request to TikTok by endpoint",
    ["endpoint"],
    buckets=_UPSTREAM_BUCKETS,
    registry=None,
)
TOKEN_REFRESHES = Counter(
    "token_refreshes_total",
    "Token refreshes that reached TikTok (or could not), by platform and outcome: refreshed, "
    "failed (transient, retried later), dead (refresh token refused: reconnect), "
    "not_configured",
    ["platform", "outcome"],
    registry=None,
)
JOB_RUNS = Counter(
    "background_job_runs_total", "Background job runs by job", ["job"], registry=None
)
JOB_FAILURES = Counter(
    "background_job_failures_total",
    "Background job runs that raised, by job",
    ["job"],
    registry=None,
)
JOB_DURATION = Histogram(
    "background_job_duration_seconds",
    "Duration of background job runs by job",
    ["job"],
    buckets=_JOB_BUCKETS,
    registry=None,
)

LEAD_RECONCILIATIONS = Counter(
    "lead_reconciliations_total",
    "Lead reconciliation runs (one advertiser's export compared with the stored leads) by "
    "outcome: succeeded, partial (some exports failed), failed",
    ["outcome"],
    registry=None,
)
LEAD_RECONCILIATION_GAPS = Counter(
    "lead_reconciliation_gaps_total",
    "Leads in TikTok's export that no webhook had stored (found: a lost webhook each), and "
    "of them those the reconciliation stored (filled)",
    ["kind"],
    registry=None,
)

# A lead's age, from its submission at TikTok: seconds when webhooks flow, up to TikTok's
# 72 h of retries (or a reconciliation pass) when they do not.
_LEAD_AGE_BUCKETS = (1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 24 * 3600, 72 * 3600)
LEAD_STORED_AGE = Histogram(
    "lead_stored_age_seconds",
    "Time from a lead's submission at TikTok (create_time) to its storage here, by how it "
    "came (webhook, backfill, reconciliation)",
    ["source"],
    buckets=_LEAD_AGE_BUCKETS,
    registry=None,
)
LEAD_ACKNOWLEDGED_AGE = Histogram(
    "lead_crm_acknowledged_age_seconds",
    "Time from a lead's submission at TikTok to the CRM's 2xx for its lead.created",
    buckets=_LEAD_AGE_BUCKETS,
    registry=None,
)

_INSTRUMENTS = (
    TIKTOK_CALLS,
    TIKTOK_LATENCY,
    TOKEN_REFRESHES,
    JOB_RUNS,
    JOB_FAILURES,
    JOB_DURATION,
    LEAD_RECONCILIATIONS,
    LEAD_RECONCILIATION_GAPS,
    LEAD_STORED_AGE,
    LEAD_ACKNOWLEDGED_AGE,
)


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Add the process-wide instruments and the process, platform and GC collectors
    (`process_*`, `python_info`, `python_gc_*`) to an app's registry."""
    for collector in (*_INSTRUMENTS, PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        registry.register(collector)


def serve_process_metrics(host: str, port: int) -> None:
    """`/metrics` of a process without HTTP (`python -m app worker`), on a thread of its own:
    these instruments and the process collectors, no business gauges (an API process serves
    those, for the whole database)."""
    registry = CollectorRegistry()
    register_process_metrics(registry)
    start_http_server(port, addr=host, registry=registry)


def observe_tiktok_call(endpoint: str, outcome: str, seconds: float) -> None:
    TIKTOK_CALLS.labels(endpoint, outcome).inc()
    TIKTOK_LATENCY.labels(endpoint).observe(seconds)


def count_token_refresh(platform: str, outcome: str) -> None:
    TOKEN_REFRESHES.labels(platform, outcome).inc()
