"""``call_path_sql.json`` is what the call path's statements compile to today, and the value
formats that run them without SQLAlchemy convert exactly as SQLAlchemy's processors do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from dialguard.storage.columns import UTCDateTime
from dialguard.storage.compiled import SQLITE_DIALECT
from dialguard.storage.precompile import CALL_PATH_STATEMENTS, call_path_json, compiled_spec
from dialguard.storage.precompiled import (
    BIND_FORMATS,
    CALL_PATH_SQL,
    RESULT_FORMATS,
    load_call_path_sql,
)
from dialguard.storage.sqlite_file import plain_sqlite_path

BIND_SAMPLES: dict[str, list[Any]] = {
    "utc_datetime": [
        datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")),
        datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    ],
}
RESULT_SAMPLES: dict[str, list[Any]] = {
    "utc_datetime": ["2026-11-25 02:00:00.000000", "2026-01-01 00:00:00.123456",
                     "2026-01-01 00:00:00", None],
    "date": ["2026-11-25", "1999-01-31", None],
    "boolean": [0, 1, None],
    "json": ['["callback", "marketing"]', '{"a": [1, null]}', "[]", None],
}  # fmt: skip


def test_the_file_is_what_the_statements_compile_to() -> None:
    assert CALL_PATH_SQL.read_text("utf-8") == call_path_json(), (
        "a call-path statement changed: run `python -m dialguard.storage.precompile`"
    )


@pytest.mark.parametrize("name", sorted(CALL_PATH_STATEMENTS))
def test_each_format_converts_as_sqlalchemy_does(name: str) -> None:
    statement = CALL_PATH_STATEMENTS[name]
    spec = compiled_spec(statement)
    compiled = statement.compile(dialect=SQLITE_DIALECT)
    assert compiled.positiontup is not None
    for bind_name, bind in zip(compiled.positiontup, spec["binds"], strict=True):
        if bind.get("format"):
            param = compiled.binds[bind_name]
            theirs = param.type.dialect_impl(SQLITE_DIALECT).bind_processor(SQLITE_DIALECT)
            ours = BIND_FORMATS[bind["format"]]
            for value in BIND_SAMPLES[bind["format"]]:
                assert ours(value) == theirs(value), (name, bind_name, value)
    for column in statement.selected_columns:
        kind = spec["columns"][str(column.key)]
        theirs = column.type.dialect_impl(SQLITE_DIALECT).result_processor(SQLITE_DIALECT, None)
        if kind is None:
            assert theirs is None, f"{name}.{column.key} needs a format"
            continue
        for value in RESULT_SAMPLES[kind]:
            assert RESULT_FORMATS[kind](value) == theirs(value), (name, column.key, value)


def test_a_naive_time_is_refused_by_both() -> None:
    naive = datetime(2026, 11, 25, 10, 0)
    with pytest.raises(ValueError, match="naive datetime"):
        BIND_FORMATS["utc_datetime"](naive)
    theirs = UTCDateTime().dialect_impl(SQLITE_DIALECT).bind_processor(SQLITE_DIALECT)
    with pytest.raises(ValueError, match="naive datetime"):
        theirs(naive)
    spec = compiled_spec(CALL_PATH_STATEMENTS["recent_allowed"])
    assert any(bind.get("format") == "utc_datetime" for bind in spec["binds"])
    with pytest.raises(ValueError, match="naive datetime"):
        load_call_path_sql()["recent_allowed"].parameters(
            {"callee": "+8613800138000", "tenant": "acme", "since": naive}
        )


def test_literals_of_a_statement_are_sent_as_constants() -> None:
    params = load_call_path_sql()["recent_allowed"].parameters(
        {"callee": "+8613800138000", "tenant": "acme", "since": datetime(2026, 1, 1, tzinfo=UTC)}
    )
    assert "allow" in params
    assert "2026-01-01 00:00:00.000000" in params


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////var/lib/dialguard/dialguard.db",
        "sqlite+aiosqlite:///relative/dg.db",
        "sqlite+aiosqlite:////tmp/dir with blanks/dg.db",
    ],
)
def test_a_plain_file_url_names_the_file_sqlalchemy_would(url: str) -> None:
    path = plain_sqlite_path(url)
    assert path is not None
    assert str(path) == make_url(url).database


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
        "sqlite+aiosqlite:///file:dg?mode=ro&uri=true",
        "sqlite+aiosqlite:////tmp/dg.db?timeout=5",
        "sqlite+aiosqlite:////tmp/a%20b.db",
        "sqlite:////tmp/dg.db",
        "postgresql+asyncpg://dg@localhost/dg",
    ],
)
def test_any_other_url_is_left_to_the_store(url: str) -> None:
    assert plain_sqlite_path(url) is None
