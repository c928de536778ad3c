"""Storage pieces that need no database: E.164 guard, time type, audit encoding, engine URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from dialguard.numbers import normalize
from dialguard.settings.database import DatabaseSettings
from dialguard.storage import ImportCounts, require_e164
from dialguard.storage.audit import GENESIS_HASH, canonical_entry, canonical_json, entry_hash
from dialguard.storage.columns import UTCDateTime
from dialguard.storage.connection import create_engine

SHANGHAI = timezone(timedelta(hours=8))


def test_require_e164_accepts_the_normalised_form() -> None:
    assert require_e164(normalize("138 0013 8000")) == "+8613800138000"


@pytest.mark.parametrize(
    "raw", ["13800138000", "008613800138000", "+86 138 0013 8000", "+0123", "", "+86abc"]
)
def test_require_e164_rejects_anything_else_naming_it(raw: str) -> None:
    with pytest.raises(ValueError, match=r"expected an E\.164 number") as info:
        require_e164(raw)
    assert repr(raw) in str(info.value)


def test_utc_datetime_stores_utc_and_returns_aware_utc() -> None:
    kind = UTCDateTime()
    local = datetime(2024, 6, 3, 10, 0, tzinfo=SHANGHAI)
    stored = kind.process_bind_param(local, sqlite.dialect())
    assert stored == datetime(2024, 6, 3, 2, 0)  # naive UTC text on SQLite
    assert kind.process_bind_param(local, postgresql.dialect()) == local
    back = kind.process_result_value(stored, sqlite.dialect())
    assert back == local and back is not None and back.tzinfo is UTC


def test_utc_datetime_refuses_naive_times() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2024, 6, 3), sqlite.dialect())


def test_canonical_json_is_key_order_and_whitespace_independent() -> None:
    assert canonical_json({"b": 1, "a": ["é", None]}) == '{"a":["é",null],"b":1}'


def test_canonical_entry_is_stable() -> None:
    """Pins the encoding: changing it would invalidate every stored chain."""
    encoded = canonical_entry(
        seq=1,
        at=datetime(2024, 6, 3, 10, 0, tzinfo=SHANGHAI),
        actor="alice",
        action="dnc.add",
        subject="+8613800138000",
        detail_json='{"after":{"scope":"global"}}',
        prev_hash=GENESIS_HASH,
    )
    assert (
        encoded
        == (
            '{"action":"dnc.add","actor":"alice","at":"2024-06-03T02:00:00.000000+00:00",'
            '"detail":"{\\"after\\":{\\"scope\\":\\"global\\"}}",'
            f'"prev_hash":"{GENESIS_HASH}","seq":1,"subject":"+8613800138000"}}'
        ).encode()
    )
    assert len(entry_hash(encoded)) == 64


def test_import_counts_add_up() -> None:
    assert ImportCounts(2, 1) + ImportCounts(3, 4) == ImportCounts(5, 5)


@pytest.mark.parametrize(
    "url", ["sqlite:///x.db", "postgresql+psycopg2://h/db", "mysql+aiomysql://h/db"]
)
def test_engine_refuses_other_drivers_naming_the_key(url: str) -> None:
    with pytest.raises(ValueError, match=r"^database\.url: unsupported"):
        create_engine(DatabaseSettings(url=url))
