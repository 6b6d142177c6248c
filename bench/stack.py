"""Everything a benchmark run starts, and stops again however the run ends.

One process each: the emulator (TikTok), the CRM receiver, the two baselines (PostgreSQL,
SQLite) and the service on PostgreSQL and on SQLite, each service started the way an
operator starts it (`python -m app migrate`, then `python -m app serve`) with TikTok pointed
at the emulator; and the production topology on PostgreSQL, an API process with its
background jobs off (`BACKGROUND_JOBS_ENABLED=false`) beside a `python -m app worker`.
B3 adds its own database and two more service processes (see refresh.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

from bench import db
from bench.emulator import BUSINESS_APP_ID, BUSINESS_SECRET, CLIENT_KEY, CLIENT_SECRET
from bench.flows import JWT_SECRET
from bench.procs import Server, free_port, spawn, uvicorn_argv

CRM_SECRET = "bench-crm-secret-0123456789"  # noqa: S105 - throwaway
READY = "/readyz"


def service_env(
    database_url: str,
    port: int,
    emulator: Server,
    *,
    crm: Server | None = None,
    business: bool = True,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The service's settings: development mode (so dev secrets are accepted), TikTok and
    TikTok for Business at the emulator, deliveries to the CRM receiver when given."""
    env = {
        "APP_ENV": "development",
        "DATABASE_URL": database_url,
        "AUTH_JWT_SECRET": JWT_SECRET,
        "API_BASE_URL": f"http://127.0.0.1:{port}",
        "FRONTEND_URL": f"http://127.0.0.1:{port}/frontend",
        "TIKTOK_CLIENT_ID": CLIENT_KEY,
        "TIKTOK_CLIENT_SECRET": CLIENT_SECRET,
        "TIKTOK_AUTH_BASE_URL": emulator.url,
        "TIKTOK_API_BASE_URL": emulator.url,
    }
    if business:
        env |= {
            "TIKTOK_BUSINESS_APP_ID": BUSINESS_APP_ID,
            "TIKTOK_BUSINESS_SECRET": BUSINESS_SECRET,
            "TIKTOK_BUSINESS_AUTH_URL": f"{emulator.url}/portal/auth",
            "TIKTOK_BUSINESS_API_BASE_URL": f"{emulator.url}/open_api/v1.3",
        }
    if crm is not None:
        env |= {"CRM_LEADS_WEBHOOK_URL": f"{crm.url}/leads", "CRM_WEBHOOK_SECRET": CRM_SECRET}
    return env | (extra or {})


def start_service(name: str, workdir: Path, env_for_port: dict[str, str], port: int) -> Server:
    return spawn(name, ["-m", "app", "serve", "--port", str(port)], workdir, env_for_port, port)


def start_worker(name: str, workdir: Path, env: dict[str, str], metrics_port: int) -> Server:
    """`python -m app worker`: every background job, no HTTP but its /metrics (readiness)."""
    argv = ["-m", "app", "worker", "--metrics-host", "127.0.0.1", "--metrics-port"]
    return spawn(name, [*argv, str(metrics_port)], workdir, env, metrics_port)


@dataclass
class Stack:
    workdir: Path
    exits: AsyncExitStack
    emulator: Server = field(init=False)
    crm: Server = field(init=False)
    bare: Server = field(init=False)  # serves /bare, /read-limit and the PostgreSQL /limit
    limit_sqlite: Server = field(init=False)
    service_pg: Server = field(init=False)
    service_sqlite: Server = field(init=False)
    # The production topology: an API process with no background jobs, and a worker.
    service_pg_api: Server = field(init=False)
    worker_pg: Server = field(init=False)
    pg_service_dsn: str = field(init=False)
    pg_split_dsn: str = field(init=False)
    sqlite_service_path: Path = field(init=False)
    pg_limit_dsn: str = field(init=False)
    sqlite_limit_path: Path = field(init=False)
    servers: list[Server] = field(default_factory=list)

    def track(self, server: Server) -> Server:
        self.servers.append(server)
        self.exits.callback(server.stop)
        return server

    async def database(self) -> str:
        dsn = await db.create_database()
        self.exits.push_async_callback(db.drop_database, dsn)
        return dsn

    async def start(self) -> None:
        self.pg_service_dsn = await self.database()
        self.pg_limit_dsn = await self.database()
        self.pg_split_dsn = await self.database()
        self.sqlite_service_path = self.workdir / "service.db"
        self.sqlite_limit_path = self.workdir / "limit.db"
        sqlite_url = f"sqlite+aiosqlite:///{self.sqlite_service_path}"
        db.migrate(db.sqlalchemy_url(self.pg_service_dsn), self.workdir)
        db.migrate(db.sqlalchemy_url(self.pg_split_dsn), self.workdir)
        db.migrate(sqlite_url, self.workdir)

        self.emulator = self._uvicorn("emulator", "bench.emulator:create_app", {})
        self.crm = self._uvicorn("crm", "bench.crm:create_app", {})
        self.bare = self._uvicorn(
            "baseline-pg",
            "bench.baseline:create_app",
            {
                "BENCH_DATABASE": self.pg_limit_dsn,
                # /read-limit reads the accounts of the service on PostgreSQL (B2).
                "BENCH_READ_DATABASE": self.pg_service_dsn,
                "BENCH_JWT_SECRET": JWT_SECRET,
            },
        )
        self.limit_sqlite = self._uvicorn(
            "baseline-sqlite",
            "bench.baseline:create_app",
            {"BENCH_DATABASE": str(self.sqlite_limit_path)},
        )
        for server in (self.emulator, self.crm, self.bare, self.limit_sqlite):
            server.wait_ready("/openapi.json" if server is not self.crm else "/stats")
        self.service_pg = self.service(
            "service-pg", db.sqlalchemy_url(self.pg_service_dsn), crm=self.crm
        )
        self.service_sqlite = self.service("service-sqlite", sqlite_url)
        split_url = db.sqlalchemy_url(self.pg_split_dsn)
        self.service_pg_api = self.service(
            "service-pg-api", split_url, extra={"BACKGROUND_JOBS_ENABLED": "false"}
        )
        port = free_port()
        worker_env = service_env(split_url, self.service_pg_api.port, self.emulator)
        self.worker_pg = self.track(start_worker("worker-pg", self.workdir, worker_env, port))
        for server in (self.service_pg, self.service_sqlite, self.service_pg_api):
            server.wait_ready(READY)
        self.worker_pg.wait_ready("/metrics")

    def service(
        self,
        name: str,
        database_url: str,
        *,
        crm: Server | None = None,
        business: bool = True,
        extra: dict[str, str] | None = None,
    ) -> Server:
        port = free_port()
        env = service_env(
            database_url, port, self.emulator, crm=crm, business=business, extra=extra
        )
        return self.track(start_service(name, self.workdir, env, port))

    def _uvicorn(self, name: str, factory: str, env: dict[str, str]) -> Server:
        port = free_port()
        if factory.startswith("bench.baseline"):
            # The limit route checks the signature with the secret the service uses.
            env = {"BENCH_WEBHOOK_SECRET": CLIENT_SECRET, **env}
        return self.track(spawn(name, uvicorn_argv(factory, port), self.workdir, env, port))

    def under_test(self) -> Sequence[Server]:
        """The servers whose leftover work must settle between runs (not the helpers)."""
        return [
            server
            for server in self.servers
            if server.name != "crm" and server.process.poll() is None
        ]
