"""Errors storage raises, so that no caller has to import SQLAlchemy or a driver to catch them."""

from __future__ import annotations


class StorageError(RuntimeError):
    """The database could not be reached or refused the work; ``__cause__`` has the driver's error.

    On the call path this is the one exception that means "the store is down": the gate decides
    its failure branch on it and logs the outage once, not a traceback per call.
    """


class SchemaOutOfDate(StorageError):
    """The database is not at the schema revision this code expects."""


class UnknownTenant(ValueError):
    """A write named a tenant that does not exist (create it with ``tenants.ensure``)."""

    def __init__(self, tenant: str) -> None:
        self.tenant = tenant
        super().__init__(f"unknown tenant {tenant!r}: create it first (tenants.ensure)")


def describe(exc: BaseException) -> str:
    """The driver's own message, without the SQL text and parameters SQLAlchemy appends."""
    original = getattr(exc, "orig", None)
    return f"{type(exc).__name__}: {original if original is not None else exc}"
