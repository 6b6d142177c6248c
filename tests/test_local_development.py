"""Local development as a newcomer meets it: `.env.example` copied as is works with
`make run` on any PORT, API_BASE_URL follows PORT when unset, and the local page lives on
API_BASE_URL's host only (the OAuth cookie and the callback are there)."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import httpx
import pytest

from app.core.config import Settings
from app.main import create_app, with_emulator
from tests.conftest import REPO_ROOT, make_settings

ENV_EXAMPLE = REPO_ROOT / ".env.example"


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "API_BASE_URL", "FRONTEND_URL", "TIKTOK_CLIENT_ID", "APP_ENV"):
        monkeypatch.delenv(name, raising=False)


def test_api_base_url_follows_port_when_unset() -> None:
    settings = Settings(_env_file=None, port=9123)  # type: ignore[call-arg]
    assert settings.api_base_url == "http://localhost:9123"
    assert settings.tiktok_redirect == (
        "http://localhost:9123/api/integrations/accounts/oauth/callback/tiktok/"
    )
    assert Settings(_env_file=None).api_base_url == "http://localhost:8000"  # type: ignore[call-arg]


def test_an_explicit_api_base_url_is_kept_whatever_the_port() -> None:
    settings = Settings(_env_file=None, port=9123, api_base_url="https://tiktok.example")  # type: ignore[call-arg]
    assert settings.api_base_url == "https://tiktok.example"


def _derived(settings: Settings) -> dict[str, Any]:
    """Every property of the settings: some depend on which settings were set, not only on
    their values (the deprecated CRM backoff is chosen by setting its base or cap)."""
    names = [
        name
        for name, member in vars(Settings).items()
        if isinstance(member, property | cached_property) and not name.startswith("_")
    ]
    return {name: getattr(settings, name) for name in names}


@pytest.mark.usefixtures("clean_environment")
def test_env_example_copied_as_is_changes_no_default() -> None:
    from_example = Settings(_env_file=ENV_EXAMPLE)  # type: ignore[call-arg]
    defaults = Settings(_env_file=None)  # type: ignore[call-arg]
    assert from_example.model_dump() == defaults.model_dump()
    assert _derived(from_example) == _derived(defaults)


@pytest.mark.usefixtures("clean_environment")
def test_env_example_serves_the_whole_flow_on_another_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9000")  # `PORT=9000 make run` with the example as .env
    settings = with_emulator(Settings(_env_file=ENV_EXAMPLE))  # type: ignore[call-arg]
    assert settings.api_base_url == "http://localhost:9000"
    assert settings.frontend_url == "http://localhost:9000"  # the local page, same port
    assert settings.tiktok_auth_base_url == "http://localhost:9000/_tiktok"
    assert settings.tiktok_redirect.startswith("http://localhost:9000/")


async def test_the_local_page_sends_another_host_to_api_base_urls() -> None:
    app = create_app(make_settings(api_base_url="http://localhost:8000"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
        moved = await http.get("/integrations", params={"connected": "true"})
    assert moved.status_code == 307
    assert moved.headers["location"] == "http://localhost:8000/integrations?connected=true"

    async with httpx.AsyncClient(transport=transport, base_url="http://localhost:8000") as http:
        page = await http.get("/integrations")
    assert page.status_code == 200
    assert "TikTok integrations" in page.text
