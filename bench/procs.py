"""The processes a benchmark runs against: started, awaited, measured (RSS, CPU), stopped.

Every server is its own OS process with one uvicorn worker, as the service runs in
production, so the load generator, the database and each server compete for the CPU the
way they would on a real host (and no server shares the GIL with the bench itself).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 60.0
# Where the service's code (app/, migrations/) is imported from: the work tree, or a
# snapshot of a git ref (`--app-ref`); the bench's own modules always come from REPO.
_app_dir = REPO
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def use_app_dir(path: Path) -> None:
    global _app_dir
    _app_dir = path


def python_path() -> str:
    return os.pathsep.join(dict.fromkeys([str(_app_dir), str(REPO)]))


def rss_mb(pid: int) -> float:
    """Resident set size from /proc (no psutil needed)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (fields 14 and 15 of /proc/<pid>/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def rss_mb(self) -> float:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def wait_ready(self, path: str, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited during startup; see {self.log}")
            try:
                if httpx.get(self.url + path, timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout:.0f}s; see {self.log}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


def spawn(
    name: str,
    argv: Sequence[str],
    workdir: Path,
    env: dict[str, str],
    port: int,
) -> Server:
    """Start `python <argv>` in `workdir` (not the repo: a developer's .env stays out)."""
    full_env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": python_path(),
        "PYTHONDONTWRITEBYTECODE": "1",
        **env,
    }
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            [sys.executable, *argv],
            cwd=workdir,
            env=full_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Server(name, port, process, log, full_env)


def uvicorn_argv(factory: str, port: int) -> list[str]:
    """One worker, uvicorn's defaults otherwise (uvloop and httptools, as the service)."""
    return [
        "-m",
        "uvicorn",
        factory,
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def wait_idle(servers: Sequence[Server], *, threshold: float = 0.1, timeout: float = 15.0) -> None:
    """Until every server uses under `threshold` of a core for half a second (background
    work left over from the previous run must not be billed to the next one)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = [server.cpu_seconds() for server in servers]
        time.sleep(0.5)
        after = [server.cpu_seconds() for server in servers]
        if all((b - a) / 0.5 < threshold for a, b in zip(before, after, strict=True)):
            return
