"""Settings: every knob of the service, read from the environment and `.env`.

Names are the contract in SPEC.md. Secrets are `SecretStr` so they never print. In
production the service refuses placeholder secrets and an http public URL.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.origins import OriginPolicy, origin_of, parse_origin

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
    # Unset: http://localhost:{PORT} (see `_api_base_url_follows_port`).
    api_base_url: str = "http://localhost:8000"
    frontend_url: str = "http://localhost:3000"
    # Browser origins allowed by CORS and as connect `return_to` targets, besides
    # FRONTEND_URL's own origin (always allowed): a comma-separated list of origins, and a
    # regular expression an origin must match in full (preview deploys).
    frontend_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    frontend_origin_regex: str | None = None
    port: int = 8000
    log_level: str = "INFO"
    # Largest JSON request body (the webhook routes have their own limits below).
    max_request_body_bytes: int = Field(default=1024 * 1024, ge=1)
    # When set, /metrics answers only `Authorization: Bearer <this>`.
    metrics_bearer_token: SecretStr | None = None
    # Serve /docs, /redoc and /openapi.json (404 when false).
    api_docs_enabled: bool = True

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
    # Reads from TikTok (profile, videos, forms, exports) give up after this long in all,
    # retries included.
    tiktok_read_deadline_seconds: float = Field(default=10.0, gt=0)
    # Token grants (code exchange, refresh) wait this long for TikTok's answer, longer than
    # reads: once sent, TikTok may have consumed the code or rotated the refresh token, and
    # the new tokens exist only in the answer.
    tiktok_token_timeout_seconds: float = Field(default=60.0, gt=0)
    webhook_max_body_bytes: int = 65536
    tiktok_webhook_sweep_interval_seconds: float = 30.0
    # The inbox job of a process is woken by its own stores; this is how often it also looks
    # for events stored by other processes (API replicas with background jobs off).
    webhook_poll_interval_seconds: float = Field(default=1.0, gt=0)

    # Token lifecycle and background jobs
    background_jobs_enabled: bool = True
    token_refresh_interval_seconds: float = 60.0
    # Background refreshes in flight at once per process. Each holds a database connection
    # (its row lock) while TikTok answers; 10 keeps well inside the pool and is a modest
    # load on TikTok's token endpoint (no published limit; a 429 is retried next pass).
    token_refresh_concurrency: int = Field(default=10, ge=1)
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
    tiktok_business_redirect_uri: str | None = None
    leadgen_webhook_token: SecretStr | None = None
    # Lead webhooks come in batches (hundreds of entries), far larger than Login Kit events.
    leadgen_webhook_max_body_bytes: int = 8 * 1024 * 1024
    leads_attach_interval_seconds: float = 60.0
    # Lead webhook subscriptions die silently at TikTok: each advertiser's is checked this often.
    leads_subscription_check_interval_seconds: float = Field(default=900.0, gt=0)
    # Backfills: how often the worker looks for queued jobs, how long a claimed job stays
    # leased (renewed while it runs), and how an export task is polled (first wait, doubling
    # up to 30 s, at most this many polls).
    leads_backfill_interval_seconds: float = Field(default=5.0, gt=0)
    leads_backfill_lease_seconds: float = Field(default=600.0, gt=0)
    leads_backfill_poll_seconds: float = Field(default=2.0, ge=0)
    leads_backfill_poll_attempts: int = Field(default=20, ge=1)
    # Export tasks (form x region) in flight at once per advertiser, for backfills and
    # reconciliations alike.
    leads_export_concurrency: int = Field(default=4, ge=1, le=32)
    # Reconciliation: every connected advertiser's lead export is compared with the stored
    # leads this often (each run's next one jittered by +/-10%); missing leads are ingested.
    leads_reconcile_interval_seconds: float = Field(default=21600.0, gt=0)
    # A probe waits this long for its test lead to arrive by webhook (then reads the
    # export), and as long again for the CRM's acknowledgement when it asked for one.
    leads_probe_timeout_seconds: float = Field(default=30.0, gt=0, le=120)

    # CRM delivery: every event (`app.events`) to CRM_WEBHOOK_URL (CRM_LEADS_WEBHOOK_URL is
    # its deprecated alias, used when CRM_WEBHOOK_URL is unset); `crm_url` is the one in force.
    crm_webhook_url: str | None = None
    crm_leads_webhook_url: str | None = None
    # Comma-separated during a rotation: every delivery is signed with each (one `v1,` each).
    crm_webhook_secret: SecretStr | None = None
    # Comma-separated event types to deliver (`account.connected,lead.created`); empty: all.
    crm_webhook_events: Annotated[list[str], NoDecode] = Field(default_factory=list)
    crm_delivery_interval_seconds: float = 2.0
    crm_delivery_batch_size: int = Field(default=20, ge=1, le=500)
    # A claimed delivery is re-claimed by any worker once its lease lapses (crash recovery);
    # the whole request must fit inside it, so the timeout must be shorter.
    crm_delivery_lease_seconds: float = Field(default=60.0, gt=0)
    crm_delivery_timeout_seconds: float = Field(default=10.0, gt=0)
    # The wait before each retry: Standard Webhooks' schedule (`app.core.retry`) unless
    # CRM_DELIVERY_RETRY_SCHEDULE (comma-separated seconds) is set. Setting the deprecated
    # exponential backoff's base or cap instead selects that backoff (as before the schedule).
    crm_delivery_retry_schedule: Annotated[list[float], NoDecode] = Field(default_factory=list)
    crm_delivery_backoff_base_seconds: float = Field(default=5.0, ge=0)
    crm_delivery_backoff_cap_seconds: float = Field(default=3600.0, ge=0)
    # Retries go on at least this long after the first attempt, then the delivery is dead.
    # Unset: 72 h with the schedule (TikTok's own retry window), 48 h with the exponential
    # backoff (its former default). See `crm_delivery_max_age`.
    crm_delivery_max_age_hours: float | None = Field(default=None, ge=24)

    @model_validator(mode="before")
    @classmethod
    def _csv_lists(cls, data: object) -> object:
        if isinstance(data, dict):
            for name in (
                "auth_jwt_algorithms",
                "frontend_origins",
                "crm_webhook_events",
                "crm_delivery_retry_schedule",
            ):
                if isinstance(data.get(name), str):
                    data[name] = split_csv(data[name])
        return data

    @model_validator(mode="after")
    def _api_base_url_follows_port(self) -> Settings:
        # Unset, the public URL is this machine's served port: `PORT=9000 make run` then
        # names :9000 in OAuth redirects and the emulator's URLs, not the default's :8000.
        if "api_base_url" not in self.model_fields_set:
            self.api_base_url = f"http://localhost:{self.port}"
        return self

    @model_validator(mode="after")
    def _origins(self) -> Settings:
        if origin_of(self.frontend_url) is None:
            raise ValueError("FRONTEND_URL must be an http(s) URL")
        origins: list[str] = []
        for value in self.frontend_origins:
            origin = parse_origin(value)
            if origin is None:
                raise ValueError(
                    f"FRONTEND_ORIGINS: {value!r} is not an origin (http(s)://host[:port])"
                )
            origins.append(origin)
        self.frontend_origins = origins
        if self.frontend_origin_regex is not None:
            try:
                re.compile(self.frontend_origin_regex)
            except re.error as exc:
                raise ValueError(
                    f"FRONTEND_ORIGIN_REGEX is not a regular expression: {exc}"
                ) from exc
        return self

    @property
    def origin_policy(self) -> OriginPolicy:
        """The browser origins allowed by CORS and as connect `return_to` targets."""
        return OriginPolicy.of(self.frontend_url, self.frontend_origins, self.frontend_origin_regex)

    @model_validator(mode="after")
    def _crm_delivery(self) -> Settings:
        for name in ("crm_webhook_url", "crm_leads_webhook_url"):
            url = getattr(self, name)
            if url and not url.startswith(("http://", "https://")):
                raise ValueError(f"{name.upper()} must be an http(s) URL")
        if self.crm_url and not self.crm_webhook_secrets:
            raise ValueError("CRM_WEBHOOK_URL needs CRM_WEBHOOK_SECRET to sign deliveries")
        for secret in self.crm_webhook_secrets:
            if secret.startswith("whsec_"):
                try:
                    base64.b64decode(secret.removeprefix("whsec_"), validate=True)
                except ValueError as exc:
                    raise ValueError(
                        "CRM_WEBHOOK_SECRET: whsec_ must be followed by base64"
                    ) from exc
        if any(step < 0 for step in self.crm_delivery_retry_schedule):
            raise ValueError("CRM_DELIVERY_RETRY_SCHEDULE: seconds, none negative")
        if self.crm_delivery_timeout_seconds >= self.crm_delivery_lease_seconds:
            raise ValueError(
                "CRM_DELIVERY_TIMEOUT_SECONDS must be below CRM_DELIVERY_LEASE_SECONDS"
            )
        return self

    @property
    def crm_url(self) -> str | None:
        """Where events are delivered: CRM_WEBHOOK_URL, else its deprecated alias."""
        return self.crm_webhook_url or self.crm_leads_webhook_url

    @property
    def crm_webhook_secrets(self) -> list[str]:
        """CRM_WEBHOOK_SECRET's secrets (several during a rotation), each signing every
        delivery."""
        raw = self.crm_webhook_secret.get_secret_value() if self.crm_webhook_secret else ""
        return split_csv(raw)

    @property
    def crm_exponential_backoff(self) -> bool:
        """The deprecated exponential backoff is in force: its base or cap was set and no
        CRM_DELIVERY_RETRY_SCHEDULE was."""
        chosen = {"crm_delivery_backoff_base_seconds", "crm_delivery_backoff_cap_seconds"}
        return not self.crm_delivery_retry_schedule and bool(chosen & self.model_fields_set)

    @property
    def crm_delivery_max_age(self) -> timedelta:
        """How long after its first attempt a delivery is retried (CRM_DELIVERY_MAX_AGE_HOURS;
        unset: 72 h, or 48 h with the exponential backoff)."""
        hours = self.crm_delivery_max_age_hours
        if hours is None:
            hours = 48.0 if self.crm_exponential_backoff else 72.0
        return timedelta(hours=hours)

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
    def secret_values(self) -> list[str]:
        """Every configured secret, and each item of a comma-separated one (for log scrubbing)."""
        values: list[str] = []
        for name in type(self).model_fields:
            field = getattr(self, name)
            if isinstance(field, SecretStr) and field.get_secret_value():
                raw = field.get_secret_value()
                values.append(raw)
                for item in split_csv(raw):
                    values.extend([item, item.partition(":")[2]])
        return [value for value in dict.fromkeys(values) if value]

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
    def tiktok_business_redirect(self) -> str:
        return self.tiktok_business_redirect_uri or (
            f"{self.api_base_url.rstrip('/')}/api/integrations/accounts/oauth/callback/tiktok-ads/"
        )

    @property
    def tiktok_business_configured(self) -> bool:
        secret = self.tiktok_business_secret
        return bool(self.tiktok_business_app_id and secret and secret.get_secret_value())

    @property
    def tiktok_scope_list(self) -> list[str]:
        return split_csv(self.tiktok_scopes)

    @property
    def sqlite_path(self) -> Path | None:
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url.removeprefix(prefix))
        return None
