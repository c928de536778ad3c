"""``serve``'s start-up warnings about filings (overdue changes, expiring filings) and about data
stored outside a pack's region."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from dialguard.config import Settings
from dialguard.ops.audited import Actor
from dialguard.ops.numbers import Filing, register_number
from dialguard.policy.book import PolicyBook
from dialguard.preflight import warn_about_filings, warn_about_residency
from dialguard.storage import Store

BEIJING = ZoneInfo("Asia/Shanghai")


async def test_overdue_and_expiring_filings_are_warned_about(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    book = PolicyBook.load("cn", None, None)
    numbering, calendar = book.numbering, book.default_pack.calendar
    september = Actor("ops", datetime(2026, 9, 23, 9, 0, tzinfo=BEIJING))
    await register_number(
        store, september, Filing("95555", "acme", filed_on=date(2026, 1, 5)), numbering
    )
    await register_number(store, september, Filing("95555", "acme", inbound=False), numbering)
    await register_number(
        store,
        september,
        Filing("96588", "acme", filed_on=date(2026, 1, 5), expires_on=date(2026, 11, 14)),
        numbering,
    )
    caplog.set_level(logging.WARNING, "dialguard.app")
    await warn_about_filings(store, calendar, datetime(2026, 10, 14, 12, 0, tzinfo=BEIJING))
    assert caplog.records == []  # the change is due today; the expiry is 31 days off
    await warn_about_filings(store, calendar, datetime(2026, 10, 15, 12, 0, tzinfo=BEIJING))
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "not reported to the regulator within 10 working days" in messages[0]
    assert "expires soon" in messages[1]


def test_data_outside_a_packs_region_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "dialguard.app")
    settings = Settings()
    regions = {"cn": "cn", "eu": "eu"}
    warn_about_residency(settings, regions, {"acme": "cn"})
    assert [r.getMessage() for r in caplog.records] == [
        "a tenant's recordings are stored outside the region rule packs require: its calls "
        "under them are denied (data.residency)"
    ]
    assert caplog.records[0].fields == {"tenant": "acme", "region": "cn", "packs": "eu"}  # type: ignore[attr-defined]
    caplog.clear()
    in_eu = replace(settings, database=replace(settings.database, region="eu"))
    warn_about_residency(in_eu, {"cn": "cn"}, {})
    assert "decision database is declared in another region" in caplog.records[0].getMessage()
    caplog.clear()
    warn_about_residency(
        replace(settings, database=replace(settings.database, region="cn")),
        {"cn": "cn"},
        {"acme": "cn"},
    )
    assert caplog.records == []
