"""Console and report pieces without a server: ranges and buckets in local time, percentiles,
quarters, sessions' idle expiry, report signatures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from dialguard.audit.checkpoint import SigningKey
from dialguard.console.pages import local_range, stacked_chart
from dialguard.console.sessions import IDLE_S, Sessions
from dialguard.policy.book import load_pack
from dialguard.policy.filings import Change, FilingChange
from dialguard.policy.model import NumberType, RegisteredNumber
from dialguard.reports.quarterly import Quarter, late_in
from dialguard.reports.signature import SignatureError, sign, verify
from dialguard.storage.console import HourCount, _percentile

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def test_range_defaults_to_the_last_week_in_local_days() -> None:
    span = local_range({}, SHANGHAI, NOW)
    assert (span.first.isoformat(), span.last.isoformat()) == ("2026-11-19", "2026-11-25")
    assert span.start == datetime(2026, 11, 18, 16, 0, tzinfo=UTC)
    assert span.end == datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
    assert not span.hourly


def test_a_range_has_one_offset_unless_daylight_saving_changes_in_it() -> None:
    assert local_range({}, SHANGHAI, NOW).offset == timedelta(hours=8)
    berlin = ZoneInfo("Europe/Berlin")
    assert local_range({"from": "2026-03-25", "to": "2026-04-01"}, berlin, NOW).offset is None
    assert local_range({"from": "2026-04-01", "to": "2026-04-07"}, berlin, NOW).offset == (
        timedelta(hours=2)
    )


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "2026-13-01"}, "from: expected a date"),
        ({"from": "2026-11-26", "to": "2026-11-25"}, "from: must not be after to"),
        ({"from": "2024-01-01", "to": "2026-11-25"}, "at most 366 days"),
    ],
)
def test_bad_ranges_name_the_field(query: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        local_range(query, SHANGHAI, NOW)


def test_chart_buckets_utc_hours_into_local_hours_and_stacks_denials() -> None:
    span = local_range({"from": "2026-11-25", "to": "2026-11-25"}, SHANGHAI, NOW)
    rows = [
        HourCount(datetime(2026, 11, 25, 1, tzinfo=UTC), "deny", "callee.dnc", 3),
        HourCount(datetime(2026, 11, 25, 1, tzinfo=UTC), "deny", "time.quiet_hours", 1),
        HourCount(datetime(2026, 11, 25, 1, tzinfo=UTC), "allow", None, 9),
        HourCount(datetime(2026, 11, 24, 15, tzinfo=UTC), "deny", "callee.dnc", 2),  # 23:00
    ]
    chart = stacked_chart(rows, span)
    assert len(chart["labels"]) == 24 and chart["labels"][9] == "11-25 09:00"
    dnc, quiet = chart["datasets"]
    assert dnc["label"] == "callee.dnc" and dnc["data"][9] == 3 and sum(dnc["data"]) == 3
    assert quiet["data"][9] == 1  # the previous local day's 23:00 is outside the range


def test_percentiles_from_a_distribution() -> None:
    spread = [(0.5, 50), (1.0, 49), (40.0, 1)]
    assert _percentile(spread, 0.50) == 0.5
    assert _percentile(spread, 0.99) == 1.0
    assert _percentile(spread, 1.0) == 40.0
    assert _percentile([], 0.5) is None


def test_quarters() -> None:
    q = Quarter.parse("2026q4")
    assert str(q) == "2026Q4"
    start, end = q.bounds(SHANGHAI)
    assert start == datetime(2026, 9, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    with pytest.raises(ValueError, match="expected YEARQn"):
        Quarter.parse("2026Q5")


def test_sessions_end_after_idle_time() -> None:
    clock = [0.0]
    sessions = Sessions(now=lambda: clock[0])
    sid, session = sessions.open("dgt_secret")
    clock[0] = IDLE_S - 1
    assert sessions.get(sid) is session
    clock[0] += IDLE_S - 1  # touched: idle restarts
    assert sessions.get(sid) is session
    clock[0] += IDLE_S + 1
    assert sessions.get(sid) is None and len(sessions) == 0
    assert sessions.get("forged") is None


def test_signatures_bind_the_bytes_and_the_key(tmp_path: Path) -> None:
    key = SigningKey.create(tmp_path / "k")
    other = SigningKey.create(tmp_path / "o")
    text = sign(b"report", "r.html", key, NOW)
    assert verify(b"report", text, key.public).key_id == key.key_id
    with pytest.raises(SignatureError, match="was changed"):
        verify(b"report!", text, key.public)
    with pytest.raises(SignatureError, match="not the one given"):
        verify(b"report", text, other.public)
    forged = text.replace(NOW.isoformat(), "2020-01-01T00:00:00+00:00")
    with pytest.raises(SignatureError, match="signature is invalid"):
        verify(b"report", forged, key.public)


def test_the_report_counts_the_quarters_filing_changes_reported_late() -> None:
    def change(changed_on: date, reported: date | None) -> FilingChange:
        at = datetime.combine(changed_on, time(9), SHANGHAI)
        terms = RegisteredNumber(
            number="+861058001234",
            tenant="acme",
            purposes=frozenset({"callback"}),
            inbound_enabled=True,
            outbound_enabled=True,
            number_type=NumberType.CALL_CENTRE,
            filing_ref="MIIT-1",
            filed_on=reported,
            active=True,
            effective_from=at,
        )
        return FilingChange(1, Change.CHANGED, terms, at, "ops")

    start, end = Quarter(2026, 4).bounds(SHANGHAI)
    # ten working days after Monday 2 November is Monday 16 November
    changes = (
        change(date(2026, 11, 2), date(2026, 11, 16)),  # on time
        change(date(2026, 11, 2), date(2026, 11, 17)),  # late
        change(date(2026, 12, 20), None),  # past its deadline, unreported
        change(date(2026, 12, 30), None),  # not yet due
        change(date(2026, 9, 23), None),  # overdue, but a change of the quarter before
    )
    now = datetime(2027, 1, 5, 10, tzinfo=SHANGHAI)
    assert late_in(changes, load_pack("cn").calendar, start, end, now) == 2
