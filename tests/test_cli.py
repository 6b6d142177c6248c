"""`python -m app token` prints a development JWT and nothing else; never in production."""

from __future__ import annotations

import os
import subprocess
import sys

import jwt

from app.core.config import DEV_JWT_SECRET
from tests.conftest import REPO_ROOT


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
