"""Persistence: the number registry, DNC lists, consents, the decision log and the audit chain.

SQLite (embedded) or PostgreSQL (several nodes) behind one API; nothing outside this package
imports SQLAlchemy. Typical use::

    await init_database(settings)              # create or upgrade the schema
    store = await Store.open(settings)
    async with store.transaction() as tx:
        await tx.dnc.add(entry)

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
    from .migrate import head_revision, init_database
    from .records import (
        AuditEntry,
        DncRecord,
        FrequencyReset,
        ImportCounts,
        Outcome,
        Tenant,
        require_e164,
    )
    from .store import Store, Transaction

_WHERE = {
    "DecisionLog": "decision_log",
    "SchemaOutOfDate": "errors",
    "StorageError": "errors",
    "UnknownTenant": "errors",
    "lookup_facts": "facts",
    "head_revision": "migrate",
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
