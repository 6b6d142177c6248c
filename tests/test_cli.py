"""The command line: `token` prints a development JWT and nothing else, never in production;
`--version`; `migrate --check` on SQLite and PostgreSQL; `migrate` and `serve` log JSON lines
(Alembic's and uvicorn's too); progress bars drawn only on a terminal."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from alembic import command
from sqlalchemy.engine import make_url

import app
from app.core.config import DEV_JWT_SECRET
from app.core.migrations import alembic_config, head_revisions, upgrade_to_head
from tests.conftest import REPO_ROOT, _pg_execute, _postgres_admin_url, _unavailable


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "APP_ENV"))}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=clean | env,
        timeout=60,
        check=False,
    )


def test_token_prints_only_a_jwt_for_the_company() -> None:
    result = _run("token", "--company", "ACME", "--user", "u-7", "--ttl", "120")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout == token + "\n"
    claims = jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["company_id"] == "ACME"
    assert claims["sub"] == "u-7"
    assert claims["exp"] - claims["iat"] == 120


def test_token_uses_the_configured_secret_and_claim() -> None:
    result = _run(
        "token",
        "--company",
        "acme",
        AUTH_JWT_SECRET="configured-secret-0123456789abcdefgh",
        AUTH_COMPANY_CLAIM="tenant",
    )
    claims = jwt.decode(
        result.stdout.strip(), "configured-secret-0123456789abcdefgh", algorithms=["HS256"]
    )
    assert claims["tenant"] == "acme"


def test_token_is_refused_in_production() -> None:
    result = _run(
        "token",
        "--company",
        "acme",
        APP_ENV="production",
        SECRET_KEY="a-real-secret-key-0123456789abcdef",
        INTEGRATION_ENCRYPTION_KEY="cmVhbC1wcm9kdWN0aW9uLWtleS0wMDAwMDAwMDAwMDA=",
        AUTH_JWT_SECRET="a-real-jwt-secret-0123456789abcdef",
        API_BASE_URL="https://tiktok.crm.example",
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert "production" in result.stderr


# ---- --version ------------------------------------------------------------------------------


def test_version_prints_the_release_named_in_pyproject() -> None:
    release = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"tiktok-integration {release}\n"
    assert app.__version__ == release


# ---- migrate --check ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each kind that no migration has touched (SQLite: not even created)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'data' / 'fresh.db'}"
        return
    admin = _postgres_admin_url()
    if admin is None:
        _unavailable("TEST_POSTGRES_URL is not set")
        return
    name = f"tiktok_cli_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(admin, f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(_pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _migrate(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return _run("migrate", *args, DATABASE_URL=database_url)


def _json_lines(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def test_migrate_check_names_the_pending_migrations_until_the_database_is_at_head(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    heads = ", ".join(sorted(head_revisions()))

    fresh = _migrate(url, "--check")
    assert fresh.returncode == 1, fresh.stderr
    assert fresh.stdout == ""
    assert "pending (database at none (never migrated)" in fresh.stderr
    assert f"head {heads}" in fresh.stderr
    assert "Run `python -m app migrate`." in fresh.stderr
    if url.startswith("sqlite"):
        assert not Path(url.removeprefix("sqlite+aiosqlite:///")).exists(), "checking wrote"

    command.upgrade(alembic_config(url), "0005")
    behind = _migrate(url, "--check")
    assert behind.returncode == 1
    assert "(database at 0005, head" in behind.stderr
    listed = [line.split()[0] for line in behind.stderr.splitlines() if line.startswith("  ")]
    assert listed[0] == "0006"
    assert "0005" not in listed
    assert listed[-1] in heads

    migrated = _migrate(url)
    assert migrated.returncode == 0, migrated.stderr
    at_head = _migrate(url, "--check")
    assert at_head.returncode == 0, at_head.stderr
    assert at_head.stdout == f"database at head ({heads})\n"
    assert at_head.stderr == ""


def test_migrate_check_refuses_a_database_migrated_by_a_newer_release(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}"
    upgrade_to_head(url)
    with sqlite3.connect(tmp_path / "newer.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = _migrate(url, "--check")
    assert result.returncode == 1
    assert "revision 9999, which these migrations do not know" in result.stderr


def test_migrate_check_says_when_the_database_cannot_be_read() -> None:
    result = _migrate("postgresql+asyncpg://someone:pw-0123456789@127.0.0.1:1/x", "--check")
    assert result.returncode == 2
    assert "cannot read the migration state of postgresql+asyncpg://someone:***@" in result.stderr
    assert "pw-0123456789" not in result.stdout + result.stderr


def test_migrate_logs_alembics_lines_as_json(tmp_path: Path) -> None:
    result = _migrate(f"sqlite+aiosqlite:///{tmp_path / 'logged.db'}")
    assert result.returncode == 0, result.stderr
    lines = _json_lines(result.stdout)  # every line is JSON
    upgrades = [line for line in lines if line["message"].startswith("Running upgrade")]
    assert upgrades
    assert {line["logger"] for line in upgrades} == {"alembic.runtime.migration"}
    assert result.stderr == ""


# ---- serve ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_logs_uvicorns_lines_as_json_with_request_ids(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'served.db'}"
    upgrade_to_head(url)
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "APP_ENV"))}
    env = clean | {
        "DATABASE_URL": url,
        "BACKGROUND_JOBS_ENABLED": "false",
        "API_BASE_URL": "",
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(
                    f"http://127.0.0.1:{port}/healthz", headers={"X-Request-ID": "req-cli-1"}
                )
                break
            except httpx.TransportError:
                assert process.poll() is None, "serve exited"
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.1)
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, stderr
    assert stderr == ""
    lines = _json_lines(stdout)  # every line is JSON, uvicorn's too
    uvicorn_lines = [line for line in lines if line["logger"].startswith("uvicorn")]
    assert any(f":{port}" in line["message"] for line in uvicorn_lines), uvicorn_lines
    assert all("color_message" not in line for line in lines)
    assert "\x1b" not in stdout
    [access] = [line for line in lines if line["logger"] == "app.access"]
    assert access["request_id"] == "req-cli-1"


def test_a_worker_serves_its_job_metrics_on_request(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'worker.db'}"
    upgrade_to_head(url)
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "APP_ENV"))}
    env = clean | {"DATABASE_URL": url, "API_BASE_URL": "http://127.0.0.1:9"}
    command_line = ["worker", "--metrics-port", str(port), "--metrics-host", "127.0.0.1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "app", *command_line],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        text = ""
        while 'background_job_runs_total{job="token_refresh"}' not in text:
            assert process.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, text or "no /metrics"
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics").text
            except httpx.TransportError:
                time.sleep(0.1)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "process_cpu_seconds_total" in text
    assert 'background_job_failures_total{job="token_refresh"} 0.0' in text
    assert "integration_accounts" not in text  # business gauges: an API process's


# ---- progress -------------------------------------------------------------------------------


def _rotate_keys_env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}"
    upgrade_to_head(url)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "APP_ENV"))}
    return clean | {"DATABASE_URL": url, "TERM": "xterm-256color"}


def test_progress_is_one_plain_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    env = _rotate_keys_env(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "app", "rotate-keys"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "re-encrypting tokens: 0/0 accounts\n"
    assert result.stdout == "re-encrypted 0 of 0 accounts under the current key\n"


def test_progress_draws_a_bar_on_a_terminal(tmp_path: Path) -> None:
    env = _rotate_keys_env(tmp_path)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "rotate-keys"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process is done with it
                break
            if not chunk:
                break
            drawn += chunk
        stdout, _ = process.communicate(timeout=60)
    finally:
        os.close(controller)
    assert process.returncode == 0
    assert stdout == "re-encrypted 0 of 0 accounts under the current key\n"
    screen = drawn.decode(errors="replace")
    assert "re-encrypting tokens" in screen
    assert "\x1b[" in screen  # drawn with the terminal's control sequences
