"""/docs and /redoc work offline: every script, stylesheet and icon they load is served by
the service itself (from the `fastapi-offline` package), none by a CDN."""

from __future__ import annotations

import re

import pytest

ASSET = re.compile(
    r"""(?:src|href)\s*=\s*["']([^"']+)["']|(?:url|spec-url)\s*[:=]\s*["']([^"']+)["']"""
)


def _assets(page: str) -> set[str]:
    return {first or second for first, second in ASSET.findall(page)}


@pytest.mark.parametrize(
    ("path", "script"), [("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")]
)
async def test_the_docs_load_nothing_from_another_host(client, path: str, script: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assets = _assets(page.text)
    assert any(asset.endswith(script) for asset in assets), assets
    for asset in assets:
        assert not re.match(r"^(https?:)?//", asset), f"{path} loads {asset} from elsewhere"
        if asset.startswith("/docs/assets/"):
            served = await client.get(asset)
            assert served.status_code == 200, asset
            assert len(served.content) > 1000, asset
    assert "fonts.googleapis.com" not in page.text
    assert "cdn.jsdelivr.net" not in page.text


async def test_the_documented_document_is_served_beside_the_pages(client) -> None:
    document = await client.get("/openapi.json")
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "TikTok integration service"
