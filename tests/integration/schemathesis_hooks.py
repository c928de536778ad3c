"""Generators schemathesis lacks, for the inputs an outside attack found answered with 500/503:
loaded through ``SCHEMATHESIS_HOOKS`` by ``test_api_schema.py``.

* ``date-time`` values from year 1 to 9999 with offsets up to ±14 h (at the ends of that range an
  offset takes the instant out of Python's, and the databases disagree about such years);
* bodies with one field's value nested up to 400 levels deep;
* one string of a body or query replaced by text with a NUL, an unpaired surrogate, a control
  character, or a length past its database column.

Every such request must be refused with a 4xx; the run's ``not_a_server_error`` check fails on
any 5xx.
"""

from __future__ import annotations

from datetime import UTC, timedelta, timezone
from typing import Any

import schemathesis
from hypothesis import strategies as st

OFFSETS = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=14)),
        timezone(timedelta(hours=-12)),
        timezone(timedelta(hours=5, minutes=45)),
    ]
)
EXTREMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",
        "9999-12-31T23:59:59.999999+00:00",
        "1899-12-31T23:59:59Z",
        "9000-01-01T00:00:00Z",
    ]
)
DATE_TIMES = st.one_of(
    EXTREMES,
    st.datetimes(timezones=OFFSETS).map(lambda value: value.isoformat()),
)
HOSTILE_QUERY = ["a\x00b", "line\nbreak", "\x1b[2J", "\x7f", "t" * 65, "c" * 129]
HOSTILE_TEXT = st.sampled_from([*HOSTILE_QUERY, "\ud800", "x\udfffy"])
"""A JSON body can carry an unpaired surrogate (``"\\ud800"``); a URL cannot."""

schemathesis.openapi.format("date-time", DATE_TIMES)


def _nested(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value


def _with_hostile_field(mapping: Any) -> st.SearchStrategy[Any]:
    """``mapping`` with one of its fields nested deep or replaced by hostile text."""
    if not isinstance(mapping, dict) or not mapping:
        return st.just(mapping)
    names = sorted(mapping)
    nested = st.tuples(st.sampled_from(names), st.integers(9, 400)).map(
        lambda pick: {**mapping, pick[0]: _nested(mapping[pick[0]], pick[1])}
    )
    hostile = st.tuples(st.sampled_from(names), HOSTILE_TEXT).map(
        lambda pick: {**mapping, pick[0]: pick[1]}
    )
    return st.one_of(nested, hostile)


def _strings_only(mapping: Any) -> st.SearchStrategy[Any]:
    if not isinstance(mapping, dict) or not mapping:
        return st.just(mapping)
    return st.tuples(st.sampled_from(sorted(mapping)), st.sampled_from(HOSTILE_QUERY)).map(
        lambda pick: {**mapping, pick[0]: pick[1]}
    )


@schemathesis.hook
def before_generate_body(
    context: schemathesis.HookContext, strategy: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy.flatmap(_with_hostile_field))


@schemathesis.hook
def before_generate_query(
    context: schemathesis.HookContext, strategy: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    return st.one_of(strategy, strategy.flatmap(_strings_only))
