"""The TikTok integration service (see README.md)."""

# The release, as in pyproject.toml (a test keeps them equal): `python -m app --version`,
# the OpenAPI document's `info.version`.
__version__ = "0.1.0"
