"""Health, readiness, metrics, request ids, access logs and CORS."""

from __future__ import annotations

import json
import logging

from sqlalchemy import text

from app.core.logging import JsonFormatter


async def test_healthz_answers(client) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_database_and_migrations(client, app) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "migrations": "head"}

    app.state.migration_heads = {"some-newer-revision"}
    behind = await client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["migrations"] == "behind"


async def test_readyz_reports_an_unreachable_database(client, app) -> None:
    from app.core.db import create_engine
    from tests.conftest import make_settings

    working = app.state.engine
    app.state.engine = create_engine(
        make_settings(database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none")
    )
    try:
        response = await client.get("/readyz")
    finally:
        await app.state.engine.dispose()
        app.state.engine = working
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


async def test_metrics_count_requests_by_route_template(client, auth) -> None:
    await client.get(
        "/api/integrations/accounts/00000000-0000-0000-0000-000000000001/", headers=auth()
    )
    body = (await client.get("/metrics")).text
    assert 'route="/api/integrations/accounts/{account_id}/"' in body
    assert 'status="404"' in body
    assert "00000000-0000-0000-0000-000000000001" not in body
    assert "http_request_duration_seconds_bucket" in body


async def test_request_id_is_echoed_or_generated(client) -> None:
    echoed = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id\n"})
    assert generated.headers["X-Request-ID"] not in ("", "bad id\n")


async def test_one_json_access_line_per_request_with_company(client, auth, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="app.access"):
        await client.get(
            "/api/integrations/accounts/", headers=auth("acme") | {"X-Request-ID": "r-1"}
        )
    records = [r for r in caplog.records if r.name == "app.access"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "r-1"
    assert line["route"] == "/api/integrations/accounts/"
    assert line["status"] == 200
    assert line["company_id"] == "acme"
    assert "Bearer" not in json.dumps(line)


async def test_cors_allows_the_frontend_with_credentials(client) -> None:
    response = await client.options(
        "/api/integrations/accounts/",
        headers={
            "Origin": "http://frontend.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://frontend.test"
    assert response.headers["access-control-allow-credentials"] == "true"
    evil = await client.options(
        "/api/integrations/accounts/",
        headers={"Origin": "http://evil.test", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in evil.headers


async def test_unknown_route_uses_the_error_shape(client) -> None:
    response = await client.get("/api/integrations/nope/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_unexpected_errors_are_a_500_that_leaks_nothing(app, client, sessionmaker) -> None:
    async with sessionmaker() as session:
        await session.execute(text("SELECT 1"))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-internal-detail")

    from httpx import ASGITransport, AsyncClient

    transport = ASGITransport(app=app, raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://testserver") as raw:
        response = await raw.get("/boom")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert "secret-internal-detail" not in response.text


async def test_metrics_need_the_bearer_token_once_one_is_configured(database_url: str) -> None:
    from httpx import ASGITransport, AsyncClient

    from app.main import create_app
    from tests.conftest import make_settings

    token = "metrics-token-0123456789"
    application = create_app(make_settings(database_url=database_url, metrics_bearer_token=token))
    async with AsyncClient(transport=ASGITransport(app=application), base_url="http://t") as http:
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
        basic = await http.get("/metrics", headers={"Authorization": f"Basic {token}"})
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "not_authenticated")
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_token")
    assert basic.status_code == 401
    assert right.status_code == 200
    assert "http_requests_total" in right.text


async def test_metrics_are_open_without_a_configured_token(client) -> None:
    assert (await client.get("/metrics")).status_code == 200


async def test_api_docs_can_be_turned_off(database_url: str) -> None:
    from httpx import ASGITransport, AsyncClient

    from app.main import create_app
    from tests.conftest import make_settings

    for enabled, expected in ((True, 200), (False, 404)):
        application = create_app(make_settings(database_url=database_url, api_docs_enabled=enabled))
        transport = ASGITransport(app=application)
        async with AsyncClient(transport=transport, base_url="http://t") as http:
            for path in ("/docs", "/redoc", "/openapi.json"):
                response = await http.get(path)
                assert response.status_code == expected, (enabled, path)
        # The document is still generated for `python -m app openapi` and the clients.
        assert application.openapi()["paths"]
