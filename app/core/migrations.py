"""Alembic, driven from code: upgrade to head, and tell whether a database is at head."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from app.core.config import Settings
from app.core.db import create_engine

ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = ROOT / "alembic.ini"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    # Only the `alembic` command line applies alembic.ini's logging (plain text); from code
    # (`python -m app migrate`, tests) Alembic logs through the caller's JSON handler.
    config.attributes["configure_logger"] = False
    config.set_main_option("script_location", str(ROOT / "migrations"))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade_to_head(database_url: str) -> None:
    """Blocking; call from a thread when an event loop is running (env.py runs its own)."""
    command.upgrade(alembic_config(database_url), "head")


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


@dataclass(frozen=True, slots=True)
class MigrationStatus:
    """Where a database stands against `migrations/`."""

    current: tuple[str, ...]  # the database's revisions (empty: never migrated)
    heads: tuple[str, ...]
    pending: tuple[str, ...]  # "<revision> <message>", oldest first
    unknown: tuple[str, ...]  # revisions in the database that migrations/ does not hold

    @property
    def at_head(self) -> bool:
        return not self.unknown and set(self.current) == set(self.heads)


async def migration_status(settings: Settings) -> MigrationStatus:
    """Reads the database's revision; writes nothing (a missing SQLite file is not created)."""
    script = ScriptDirectory.from_config(alembic_config())
    current: set[str] = set()
    path = settings.sqlite_path
    if path is None or path.exists():
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                current = await connection.run_sync(current_revisions)
        finally:
            await engine.dispose()
    known = {revision.revision for revision in script.walk_revisions()}
    unknown = tuple(sorted(current - known))
    pending: list[str] = []
    if not unknown:
        lower = tuple(sorted(current)) or "base"
        for revision in script.iterate_revisions("heads", lower):
            pending.append(f"{revision.revision} {revision.doc}".strip())
    return MigrationStatus(
        current=tuple(sorted(current)),
        heads=tuple(sorted(script.get_heads())),
        pending=tuple(reversed(pending)),
        unknown=unknown,
    )
