"""Contracts that must not drift: the committed OpenAPI document and the migrations."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

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
