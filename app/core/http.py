"""HTTP constants and OpenAPI helpers shared by the routers."""

# Every CRM-facing route lives under this prefix (the Django CRM's URL contract).
API_PREFIX = "/api/integrations"


def query_parameter(name: str, description: str) -> dict[str, object]:
    """OpenAPI for an optional string query parameter a browser route reads by hand
    (declared this way so FastAPI adds no validation, hence no 422, to the route)."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": description,
    }
