"""Contracts that must not drift: the committed OpenAPI document and the migrations."""

from __future__ import annotations

import ast
import json
import re

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from app.core.errors import AppError
from app.core.openapi import INTERNAL_TAGS as INTERNAL
from app.main import create_app
from app.models import Base
from tests.conftest import REPO_ROOT, make_settings


def test_committed_openapi_matches_the_app() -> None:
    committed = json.loads((REPO_ROOT / "openapi.json").read_text())
    current = json.loads(json.dumps(create_app(make_settings()).openapi()))
    assert committed == current, "openapi.json is stale: run `make openapi` and commit it"


def test_every_operation_declares_the_error_shape() -> None:
    document = create_app(make_settings()).openapi()
    for path, operations in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            assert operation["operationId"], (method, path)
            statuses = [s for s in operation["responses"] if s.startswith(("4", "5"))]
            if operation.get("security"):
                assert "401" in statuses, (method, path)
            for status in statuses:
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref["$ref"].endswith("/ErrorResponse"), (method, path, status)


def test_every_operation_with_a_body_declares_413() -> None:
    document = create_app(make_settings()).openapi()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                response = operation["responses"].get("413")
                assert response is not None, (method, path)
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorResponse"), (method, path)


async def test_migrations_are_in_step_with_the_models(app) -> None:
    def diff(connection):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(connection), Base.metadata)

    async with app.state.engine.connect() as connection:
        changes = await connection.run_sync(diff)
    assert changes == [], f"models and migrations differ: {changes}"


def _operations() -> list[tuple[str, str, dict]]:
    document = create_app(make_settings()).openapi()
    return [
        (method, path, operation)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    ]


def test_every_operation_declares_500_in_the_error_shape() -> None:
    for method, path, operation in _operations():
        response = operation["responses"].get("500")
        assert response is not None, (method, path)
        ref = response["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorResponse"), (method, path)


def test_operation_ids_are_the_tag_then_the_action_without_stutter() -> None:
    ids = {f"{method.upper()} {path}": op["operationId"] for method, path, op in _operations()}
    assert len(set(ids.values())) == len(ids), "operation ids must be unique"
    for where, operation_id in ids.items():
        assert re.fullmatch(r"[a-z][A-Za-z]*\.[a-z][A-Za-z]*", operation_id), where
        group, action = operation_id.split(".")
        assert group.lower() not in action.lower(), (where, operation_id)
    expected = {
        "GET /api/integrations/accounts/": "accounts.list",
        "POST /api/integrations/accounts/": "accounts.create",
        "GET /api/integrations/accounts/{account_id}/": "accounts.get",
        "PATCH /api/integrations/accounts/{account_id}/": "accounts.update",
        "DELETE /api/integrations/accounts/{account_id}/": "accounts.delete",
        "POST /api/integrations/accounts/{account_id}/connect/": "accounts.connect",
        "POST /api/integrations/accounts/{account_id}/disconnect/": "accounts.disconnect",
        "GET /api/integrations/accounts/{account_id}/tiktok-profile/": "tiktok.getProfile",
        "GET /api/integrations/accounts/{account_id}/tiktok-videos/": "tiktok.listVideos",
        "GET /api/integrations/leads/": "leads.list",
        "GET /api/integrations/accounts/oauth/callback/tiktok/": "oauthBrowser.callback",
        "POST /api/integrations/webhooks/tiktok/": "tiktokWebhooks.receive",
        "GET /healthz": "ops.healthz",
    }
    assert {where: ids[where] for where in expected} == expected


def test_routes_not_for_api_clients_are_tagged_so_generators_can_leave_them_out() -> None:
    tagged = {path: op["tags"] for _, path, op in _operations() if set(op["tags"]) & set(INTERNAL)}
    assert set(tagged) == {
        "/api/integrations/accounts/oauth/start/tiktok/",
        "/api/integrations/accounts/oauth/callback/tiktok/",
        "/api/integrations/accounts/oauth/callback/tiktok-ads/",
        "/api/integrations/webhooks/tiktok/",
        "/api/integrations/webhooks/tiktok-leadgen/",
        "/healthz",
        "/readyz",
        "/metrics",
    }
    for _, path, operation in _operations():
        assert len(operation["tags"]) == 1, path  # one group per operation in a client
    described = {tag["name"] for tag in create_app(make_settings()).openapi()["tags"]}
    assert set(INTERNAL) <= described


def test_tag_names_are_unique_and_describe_every_operation() -> None:
    """OpenAPI requires unique tag names; a generator groups operations by them."""
    document = create_app(make_settings()).openapi()
    names = [tag["name"] for tag in document["tags"]]
    assert sorted(names) == sorted(set(names)), f"a tag is declared twice: {names}"
    assert all(tag.get("description") for tag in document["tags"])
    used = {tag for _, _, operation in _operations() for tag in operation["tags"]}
    assert used <= set(names), used - set(names)


def test_routes_name_the_internal_tags_by_their_constants() -> None:
    """`tags=[WEBHOOKS_TAG]`, never the string: a renamed tag must not leave a route behind."""
    spelled: list[str] = []
    for source in (REPO_ROOT / "app").rglob("*.py"):
        if source == REPO_ROOT / "app" / "core" / "openapi.py":
            continue
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Constant) and node.value in INTERNAL:
                spelled.append(f"{source.relative_to(REPO_ROOT)}:{node.lineno}")
    assert spelled == []


def test_security_is_a_bearer_token_or_a_service_key_with_its_company() -> None:
    document = create_app(make_settings()).openapi()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "bearer": {"type": "http", "scheme": "bearer", "description": "JWT issued by the CRM"},
        "apiKey": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "Internal service key; sent with X-Company-Id",
        },
        "companyId": {
            "type": "apiKey",
            "in": "header",
            "name": "X-Company-Id",
            "description": "The company an internal service acts for (with X-API-Key)",
        },
    }
    secured = [(method, path, op) for method, path, op in _operations() if "security" in op]
    assert len(secured) > 15
    for method, path, operation in secured:
        assert operation["security"] == [{"bearer": []}, {"apiKey": [], "companyId": []}], (
            method,
            path,
        )
        # The company header is a credential's part, not a parameter of its own.
        names = {parameter["name"] for parameter in operation.get("parameters", [])}
        assert "X-Company-Id" not in names, (method, path)


def _literal_codes() -> set[str]:
    """Codes written as literals where an error is answered: `error_json(status, "code", …)`
    and `register_code("code")` anywhere in app/."""
    codes: set[str] = set()
    for source in (REPO_ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            position = {"error_json": 1, "register_code": 0}.get(node.func.id)
            if position is None or len(node.args) <= position:
                continue
            argument = node.args[position]
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                codes.add(argument.value)
    return codes


def _app_error_codes() -> set[str]:
    pending, codes = [AppError], set()
    while pending:
        kind = pending.pop()
        codes.add(kind.code)
        pending.extend(kind.__subclasses__())
    return codes


def test_error_codes_are_an_enum_of_every_code_the_service_answers() -> None:
    document = create_app(make_settings()).openapi()
    schemas = document["components"]["schemas"]
    enum = schemas["ErrorCode"]["enum"]
    assert enum == sorted(set(enum))
    assert _app_error_codes() <= set(enum)
    assert _literal_codes() <= set(enum)
    assert {"internal_error", "validation_error", "malformed_json", "not_found"} <= set(enum)
    assert schemas["ErrorBody"]["properties"]["code"]["$ref"] == "#/components/schemas/ErrorCode"


def test_error_details_are_typed() -> None:
    schemas = create_app(make_settings()).openapi()["components"]["schemas"]
    details = schemas["ErrorBody"]["properties"]["details"]["anyOf"]
    assert {"items": {"$ref": "#/components/schemas/ValidationProblem"}, "type": "array"} in details
    assert any(option.get("type") == "object" for option in details)
    assert set(schemas["ValidationProblem"]["required"]) == {"loc", "msg", "type"}
