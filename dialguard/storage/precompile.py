"""Writes ``call_path_sql.json``: the statements the call path reads facts with, compiled for
SQLite, for :mod:`.precompiled` to run without SQLAlchemy. After changing one of them::

    python -m dialguard.storage.precompile

``tests/unit/test_call_path_sql.py`` fails until the file matches the statements again.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Select, TypeDecorator
from sqlalchemy.sql.type_api import TypeEngine

from . import callees, decisions, dnc, migrate, registry, scripts, store
from .columns import UTCDateTime
from .compiled import SQLITE_DIALECT
from .precompiled import BIND_FORMATS, CALL_PATH_SQL, RESULT_FORMATS

CALL_PATH_STATEMENTS: dict[str, Select[Any]] = {
    "recorded_revision": migrate.RECORDED_REVISION,
    "hashed_dnc_kept": store.HASHED_DNC_KEPT,
    "tenant_by_name": registry.TENANT_BY_NAME,
    "all_tenants": registry.ALL_TENANTS,
    "registrations_of_number": registry.REGISTRATIONS_OF_NUMBER,
    "script_approved": scripts.SCRIPT_APPROVED,
    "dnc_matching": dnc.MATCHING,
    "dnc_matching_erased": dnc.MATCHING_ERASED,
    "consents_of_callee": callees.CONSENTS_OF_CALLEE,
    "recent_allowed": decisions.RECENT_ALLOWED,
    "contact_of_number": callees.CONTACT_OF_NUMBER,
}
"""Each statement the call path runs on SQLite, by the name ``call_path_sql.json`` gives it."""

_FORMATS: tuple[tuple[type[TypeEngine[Any]], str], ...] = (
    (UTCDateTime, "utc_datetime"),
    (JSON, "json"),
    (Boolean, "boolean"),
    (Date, "date"),
)


def value_format(column_type: TypeEngine[Any], formats: dict[str, Any], role: str) -> str | None:
    """The name of ``column_type``'s format among ``formats`` (None: SQLAlchemy passes its values
    through unchanged); an error for a type that needs a format :mod:`.precompiled` lacks."""
    impl, dialect = column_type.dialect_impl(SQLITE_DIALECT), SQLITE_DIALECT
    process = (
        impl.bind_processor(dialect) if role == "bind" else impl.result_processor(dialect, None)
    )
    if process is None and not isinstance(column_type, TypeDecorator):
        return None
    for kind, name in _FORMATS:
        if isinstance(column_type, kind) and name in formats:
            return name
    raise TypeError(f"no {role} format for {column_type!r} in dialguard.storage.precompiled")


def compiled_spec(statement: Select[Any]) -> dict[str, Any]:
    """What :func:`~.precompiled.load_call_path_sql` needs to run ``statement``."""
    compiled = statement.compile(dialect=SQLITE_DIALECT)
    assert compiled.positiontup is not None, "the SQLite dialect binds by position"
    binds: list[dict[str, Any]] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.required:
            binds.append({"param": name, "format": value_format(bind.type, BIND_FORMATS, "bind")})
        else:  # a literal of the statement (``verdict = 'allow'``), as SQLite receives it
            process = bind.type.dialect_impl(SQLITE_DIALECT).bind_processor(SQLITE_DIALECT)
            binds.append({"value": process(bind.value) if process else bind.value})
    columns = {
        str(column.key): value_format(column.type, RESULT_FORMATS, "result")
        for column in statement.selected_columns
    }
    assert len(columns) == len(statement.selected_columns), "result columns need unique names"
    return {"sql": str(compiled), "binds": binds, "columns": columns}


def call_path_json() -> str:
    """The text ``call_path_sql.json`` must hold."""
    specs = {name: compiled_spec(statement) for name, statement in CALL_PATH_STATEMENTS.items()}
    return json.dumps(specs, indent=1, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    CALL_PATH_SQL.write_text(call_path_json(), "utf-8")
    print(f"wrote {CALL_PATH_SQL}")
