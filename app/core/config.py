"""Settings: every knob of the service, read from the environment and `.env`.

Names are the contract in SPEC.md. Secrets are `SecretStr` so they never print. In
production the service refuses placeholder secrets and an http public URL.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

# Development defaults. They let `make run` work with no set-up and are refused in production.
DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"  # noqa: S105
DEV_ENCRYPTION_KEY = "ZGV2LWluc2VjdXJlLWtleS1jaGFuZ2UtbWUtMDAwMDA="
DEV_JWT_SECRET = "dev-insecure-jwt-secret-change-me"  # noqa: S105
PLACEHOLDERS = {DEV_SECRET_KEY, DEV_ENCRYPTION_KEY, DEV_JWT_SECRET, "", "change-me", "changeme"}

DEFAULT_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.list"


def split_csv(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", env_ignore_empty=True, extra="ignore"
    )

    app_env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite+aiosqlite:///./data/app.db"
    database_echo: bool = False
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    integration_encryption_key: SecretStr = SecretStr(DEV_ENCRYPTION_KEY)
    api_base_url: str = "http://localhost:8000"
    frontend_url: str = "http://localhost:3000"
    port: int = 8000
    log_level: str = "INFO"

    # CRM auth
    auth_jwt_secret: SecretStr | None = None
    auth_jwt_public_key: SecretStr | None = None
    auth_jwt_algorithms: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["HS256"])
    auth_jwt_issuer: str | None = None
    auth_jwt_audience: str | None = None
    auth_company_claim: str = "company_id"
    service_api_keys: SecretStr | None = None

    # TikTok Login Kit
    tiktok_client_id: str | None = None
    tiktok_client_secret: SecretStr | None = None
    tiktok_redirect_uri: str | None = None
    tiktok_scopes: str = DEFAULT_SCOPES
    tiktok_pkce: Literal["hex", "s256", "off"] = "hex"
    tiktok_auth_base_url: str = "https://www.tiktok.com"
    tiktok_api_base_url: str = "https://open.tiktokapis.com"
    tiktok_webhook_tolerance_seconds: int = 300
    webhook_max_body_bytes: int = 65536
    tiktok_webhook_sweep_interval_seconds: float = 30.0

    # Token lifecycle and background jobs
    background_jobs_enabled: bool = True
    token_refresh_interval_seconds: float = 60.0
    token_refresh_ahead_seconds: int = 600
    refresh_token_renew_before_days: int = 7
    oauth_state_ttl_seconds: int = 600
    profile_max_age_seconds: int = 900
    profile_sync_interval_seconds: float = 3600.0
    # Background sync's share of TikTok's 600 requests/min/endpoint budget.
    profile_sync_requests_per_minute: int = 300

    # TikTok for Business
    tiktok_business_app_id: str | None = None
    tiktok_business_secret: SecretStr | None = None
    tiktok_business_auth_url: str = "https://business-api.tiktok.com/portal/auth"
    tiktok_business_api_base_url: str = "https://business-api.tiktok.com/open_api/v1.3"
    leadgen_webhook_token: SecretStr | None = None

    # CRM delivery
    crm_leads_webhook_url: str | None = None
    crm_webhook_secret: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _csv_lists(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("auth_jwt_algorithms"), str):
            data["auth_jwt_algorithms"] = split_csv(data["auth_jwt_algorithms"])
        return data

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.app_env != "production":
            return self
        problems: list[str] = []
        if self.secret_key.get_secret_value() in PLACEHOLDERS:
            problems.append("SECRET_KEY is missing or a placeholder")
        keys = split_csv(self.integration_encryption_key.get_secret_value())
        if not keys or any(key in PLACEHOLDERS for key in keys):
            problems.append("INTEGRATION_ENCRYPTION_KEY is missing or a placeholder")
        jwt_secret = self.auth_jwt_secret.get_secret_value() if self.auth_jwt_secret else ""
        if jwt_secret in PLACEHOLDERS and not self.auth_jwt_public_key:
            problems.append("AUTH_JWT_SECRET or AUTH_JWT_PUBLIC_KEY must be set")
        if not self.api_base_url.startswith("https://"):
            problems.append("API_BASE_URL must be an https URL")
        if problems:
            raise ValueError("refusing to start in production: " + "; ".join(problems))
        return self

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @cached_property
    def jwt_secret(self) -> str | None:
        """The HS* secret; development falls back to a fixed, documented secret."""
        if self.auth_jwt_secret and self.auth_jwt_secret.get_secret_value():
            return self.auth_jwt_secret.get_secret_value()
        if self.auth_jwt_public_key or self.is_production:
            return None
        return DEV_JWT_SECRET

    @cached_property
    def service_keys(self) -> dict[str, str]:
        """`name:key` pairs (or bare keys) from SERVICE_API_KEYS, as {key: service name}."""
        raw = self.service_api_keys.get_secret_value() if self.service_api_keys else ""
        keys: dict[str, str] = {}
        for index, item in enumerate(part.strip() for part in raw.split(",")):
            if not item:
                continue
            name, sep, key = item.partition(":")
            keys[key if sep else name] = name if sep else f"service-{index + 1}"
        return keys

    @property
    def tiktok_redirect(self) -> str:
        return self.tiktok_redirect_uri or (
            f"{self.api_base_url.rstrip('/')}/api/integrations/accounts/oauth/callback/tiktok/"
        )

    @property
    def tiktok_scope_list(self) -> list[str]:
        return split_csv(self.tiktok_scopes)

    @property
    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix))
        return None
