"""The load generator: wrk, driven with bench/wrk.lua, one result per run.

Why wrk and not a Python client: on a 2-core machine the generator shares the CPU with the
server under test and the database. wrk (C, epoll, one thread) spends a small fraction of
what any Python HTTP client spends per request, so it disturbs the server least; each
run's `generator_cpu` (wrk's own CPU time over the run) shows how much it took. Signed
bodies need an HMAC per request, which wrk's LuaJIT lacks: they are generated here, each
one unique so nothing dedupes, and wrk POSTs each once. The Lua script stops starting
requests at the end of the window and lets the ones in flight finish, so every request
sent is answered and stored rows can be compared with 200s exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import resource
import shutil
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.procs import Server

LUA = Path(__file__).with_name("wrk.lua")
SIGNATURE_HEADER = "TikTok-Signature"
# The TikTok user the benchmark's webhooks name (linked to no account: events are logged).
WEBHOOK_OPEN_ID = "-000bench0000000000000000000000000"
_RESULT = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)


class WrkMissing(RuntimeError):
    pass


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise WrkMissing("wrk is not installed: `apt-get install wrk` (or `brew install wrk`)")
    return path


@dataclass
class Run:
    """One load run. Latencies in ms; rates per second over the sending window."""

    label: str
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    ok: int  # answered 200
    failed: int  # answered anything else
    sent: int
    exhausted: bool  # the pool of unique bodies ran out: the run is invalid
    errors: dict[str, int]
    generator_cpu: float  # wrk's CPU time / wall time (1.0 = one core)
    server_cpu: float | None  # the server's CPU time / wall time
    # The server's CPU time per answered request: the work a request costs, which (unlike
    # rates) does not depend on how much CPU the rest of the machine left it.
    cpu_ms_per_request: float | None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def signed_webhook(secret: str, client_key: str, stamp: int, share_id: str) -> tuple[str, str]:
    """A Login Kit `video.publish.completed` event and its `TikTok-Signature` value."""
    body = json.dumps(
        {
            "client_key": client_key,
            "event": "video.publish.completed",
            "create_time": stamp,
            "user_openid": WEBHOOK_OPEN_ID,
            "content": json.dumps({"share_id": share_id}),
        },
        separators=(",", ":"),
    )
    digest = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={stamp},s={digest}", body


def write_pool(path: Path, secret: str, client_key: str, count: int, tag: str) -> None:
    """`count` unique signed webhooks, one per line, for wrk.lua."""
    stamp = int(time.time())
    with path.open("w") as out:
        for index in range(count):
            header, body = signed_webhook(secret, client_key, stamp, f"video.{tag}.{index}")
            out.write(f"{header}\t{body}\n")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(
    label: str,
    url: str,
    *,
    connections: int,
    window: int,
    drain: int = 0,
    server: Server | None = None,
    headers: dict[str, str] | None = None,
    pool: Path | None = None,
    method: str = "",
    body: str = "",
) -> Run:
    """`window` seconds of load from `connections` keep-alive connections, then `drain`
    seconds for the requests in flight to finish."""
    argv = [require_wrk(), "-t1", f"-c{connections}", f"-d{window + drain}s", "--timeout", "30s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv += ["-s", str(LUA), url, "--", str(window)]
    argv += [str(pool) if pool else "", SIGNATURE_HEADER if pool else "", method, body]
    server_before = server.cpu_seconds() if server else 0.0
    cpu_before = _children_cpu()
    started = time.monotonic()
    done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
    wall = time.monotonic() - started
    generator_cpu = (_children_cpu() - cpu_before) / wall
    server_seconds = server.cpu_seconds() - server_before if server else None
    found = _RESULT.search(done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    result = json.loads(found.group(1))
    answered = max(result["ok"] + result["failed"], 1)
    return Run(
        label=label,
        rps=result["in_window"] / window,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        ok=result["ok"],
        failed=result["failed"],
        # wrk calls request() once more, before the run, to check the script.
        sent=result["sent"] - 1,
        exhausted=bool(result["exhausted"]),
        errors=result["errors"],
        generator_cpu=round(generator_cpu, 3),
        server_cpu=round(server_seconds / wall, 3) if server_seconds is not None else None,
        cpu_ms_per_request=(
            round(1000 * server_seconds / answered, 3) if server_seconds is not None else None
        ),
        extra={"drained": drain > 0},
    )
