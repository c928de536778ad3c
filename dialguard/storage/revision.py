"""Which schema revision this code needs, read from the migration scripts without importing
Alembic or SQLAlchemy (opening a store checks it; so does the call path's SQLite reader)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from .errors import SchemaOutOfDate

MIGRATIONS = Path(__file__).with_name("migrations")

_REVISION = re.compile(r'^(down_revision|revision)(?:: [^=]+)? = (None|"([^"]+)")$', re.MULTILINE)


@cache
def head_revision() -> str:
    """The revision no script revises: read from the scripts' ``revision = "…"`` and
    ``down_revision = "…"`` lines (the tests check it is Alembic's own answer)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        found = {m.group(1): m.group(3) for m in _REVISION.finditer(script.read_text("utf-8"))}
        if found.get("revision"):
            revisions.add(found["revision"])
        if found.get("down_revision"):
            revised.add(found["down_revision"])
    heads = revisions - revised
    assert len(heads) == 1, f"the package's migrations have heads {sorted(heads)}, not one"
    return heads.pop()


def require_head(current: str | None) -> None:
    """Refuse to serve from a database whose schema (at revision ``current``; None: none
    recorded) is not the one this code was written for."""
    expected = head_revision()
    if current != expected:
        raise SchemaOutOfDate(
            f"database schema is at revision {current or 'none (empty database)'}, "
            f"this dialguard needs {expected}: run `dialguard init`"
        )
