"""``[inbound] verification``: what a failed STIR/SHAKEN verification does to an inbound call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialguard.policy.book import PolicyBook
from dialguard.policy.engine import evaluate
from dialguard.policy.model import (
    VERSTAT_FAILED,
    VERSTAT_NONE,
    VERSTAT_PASSED,
    CallAttempt,
    Direction,
    Facts,
)
from dialguard.policy.pack import PackError

US_DID = "+12025550143"
CN_DID = "+861062345678"
CALLER = "+12125550100"
AT = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def _decide(book: PolicyBook, did: str, verstat: str | None) -> tuple[str, list[str]]:
    attempt = CallAttempt(CALLER, did, direction=Direction.INBOUND, verstat=verstat)
    facts = Facts(caller=CALLER, callee=did, tenant_industry="general")
    decision = evaluate(attempt, facts, AT, book.for_callee("general", did, AT.date()), "d-1")
    return decision.verdict.value, [r.code for r in decision.reasons]


@pytest.mark.parametrize(
    ("verstat", "expected"),
    [
        (VERSTAT_FAILED, ("deny", ["callerid.verification_failed"])),
        (VERSTAT_PASSED, ("allow", [])),
        (VERSTAT_NONE, ("allow", [])),
        (None, ("allow", [])),
    ],
)
def test_the_us_pack_refuses_a_failed_verification(
    verstat: str | None, expected: tuple[str, list[str]]
) -> None:
    assert _decide(PolicyBook.load(), US_DID, verstat) == expected


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("flag", ("allow", ["callerid.verification_failed"])),
        ("refuse", ("deny", ["callerid.verification_failed"])),
        ("ignore", ("allow", [])),
    ],
)
def test_a_pack_opts_in_by_override(
    tmp_path: Path, action: str, expected: tuple[str, list[str]]
) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text(f'[inbound]\nverification = "{action}"\n')
    book = PolicyBook.load(overrides_file=overrides)
    assert _decide(book, CN_DID, VERSTAT_FAILED) == expected
    assert _decide(PolicyBook.load(), CN_DID, VERSTAT_FAILED) == ("allow", [])  # cn: ignore


def test_an_unknown_action_names_the_key(tmp_path: Path) -> None:
    overrides = tmp_path / "local.toml"
    overrides.write_text('[inbound]\nverification = "block"\n')
    with pytest.raises(PackError, match=r"inbound\.verification"):
        PolicyBook.load(overrides_file=overrides)
