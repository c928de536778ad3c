"""Persistence: every table and every repository of the database, behind one API.

SQLite (embedded) or PostgreSQL (several nodes). Typical use::

    await init_database(settings)              # create or upgrade the schema
    store = await Store.open(settings)
    async with store.transaction() as tx:
        await tx.dnc.add(entry)

The rules of this package (``tests/unit/test_layering.py`` checks them):

* Every table is defined here, on :data:`.columns.metadata`: the core tables in :mod:`.schema`,
  which imports the feature tables (``*_tables``), so ``schema.SCHEMA`` is the whole database.
  Every repository is here too, and returns plain values and frozen records (``*records``).
* Storage imports no feature package (recording, rights, audit, ops, the transports…): only the
  pure values below them (``policy.model``, ``numbers``, ``canonical``, ``files``) and its
  settings. Features import storage, never the reverse.
* Outside this package only audit verification (``audit/verify.py``, ``audit/rows.py``,
  ``audit/verify_process.py``) uses SQLAlchemy: it reads the rows as stored, on purpose not
  through the repositories whose writes it checks.
* Code that opens its own ``sqlite3`` connection to a store's file sets it up with
  :func:`.sqlite_file.configure_sqlite`, and whoever opens a connection closes it.
* The SQLite fact reader (:mod:`.facts`) and what it imports (:mod:`.precompiled`, :mod:`.rows`,
  :mod:`.sqlite_file`, :mod:`.revision`) do not import SQLAlchemy, so that ``dialguard check``
  starts without it (``tests/unit/test_cli_startup.py``).

Importing a module of this package (``dialguard.storage.records``, say) runs this file: the names
below are therefore resolved on first use (PEP 562), so that the records alone do not load
SQLAlchemy, and the store alone does not load Alembic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .decision_log import DecisionLog
    from .errors import SchemaOutOfDate, StorageError, UnknownTenant
    from .facts import lookup_facts
    from .migrate import init_database
    from .records import (
        AuditEntry,
        DncRecord,
        FrequencyReset,
        ImportCounts,
        Outcome,
        Tenant,
        require_e164,
    )
    from .revision import head_revision
    from .store import Store, Transaction

_WHERE = {
    "DecisionLog": "decision_log",
    "SchemaOutOfDate": "errors",
    "StorageError": "errors",
    "UnknownTenant": "errors",
    "lookup_facts": "facts",
    "head_revision": "revision",
    "init_database": "migrate",
    "AuditEntry": "records",
    "DncRecord": "records",
    "FrequencyReset": "records",
    "ImportCounts": "records",
    "Outcome": "records",
    "Tenant": "records",
    "require_e164": "records",
    "Store": "store",
    "Transaction": "store",
}

__all__ = [
    "AuditEntry",
    "DecisionLog",
    "DncRecord",
    "FrequencyReset",
    "ImportCounts",
    "Outcome",
    "SchemaOutOfDate",
    "StorageError",
    "Store",
    "Tenant",
    "Transaction",
    "UnknownTenant",
    "head_revision",
    "init_database",
    "lookup_facts",
    "require_e164",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)
