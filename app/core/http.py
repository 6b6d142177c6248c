"""HTTP constants shared by every router."""

# Every CRM-facing route lives under this prefix (the Django CRM's URL contract).
API_PREFIX = "/api/integrations"
