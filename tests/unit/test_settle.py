"""The pure re-check of a batch inside its write transaction (:mod:`dialguard.storage.settle`)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from dialguard.gate.service import with_pending
from dialguard.policy.model import CallAttempt, Decision, Verdict
from dialguard.policy.pack import FrequencyWindow
from dialguard.storage.settle import NO_CLAIM, Claim, lock_ids, settle_batch, spans

T0 = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
CN = (FrequencyWindow(1, timedelta(minutes=10)), FrequencyWindow(3, timedelta(days=1)))


def allow(callee: str = "+8613800138000", at: datetime = T0, tenant: str = "acme") -> Decision:
    return Decision(
        decision_id=str(uuid.uuid4()),
        verdict=Verdict.ALLOW,
        reasons=(),
        policy_version="cn-2026.1",
        decided_at=at,
        attempt=CallAttempt(caller="01088886666", callee=callee[3:], tenant=tenant),
        caller="+861088886666",
        callee=callee,
        record=True,
    )


def test_later_entries_of_a_batch_count_the_earlier_ones() -> None:
    batch = [(allow(), Claim(CN)) for _ in range(5)]
    settled = settle_batch(batch, {}, {})
    assert [s.decision.verdict for s in settled] == [Verdict.ALLOW] + [Verdict.DENY] * 4
    denied = settled[1].decision
    assert denied.first_reason == "frequency.exceeded" and denied.record is False
    assert denied.next_allowed_at == T0 + timedelta(minutes=10)
    assert all(s.new for s in settled)


def test_stored_calls_count_and_each_window_is_checked() -> None:
    key = ("acme", "+8613800138000")
    day = [T0 - timedelta(hours=h) for h in (1, 2)]
    (one,) = settle_batch([(allow(), Claim(CN))], {key: day}, {})
    assert one.decision.allowed  # 2 in the day, none in the last 10 minutes
    (two,) = settle_batch([(allow(), Claim(CN))], {key: [*day, T0 - timedelta(hours=3)]}, {})
    assert "at most 3" in two.decision.reasons[0].message
    ahead = [T0 + timedelta(minutes=2)]  # committed by a node whose clock runs ahead
    (three,) = settle_batch([(allow(), Claim(CN))], {key: ahead}, {})
    assert not three.decision.allowed


def test_denials_other_callees_and_unclaimed_decisions_are_left_alone() -> None:
    other = allow(callee="+8613800138001")
    batch = [(allow(), Claim(CN)), (other, Claim(CN)), (allow(), NO_CLAIM)]
    assert [s.decision for s in settle_batch(batch, {}, {})] == [d for d, _ in batch]


def test_an_idempotency_key_returns_the_first_decision() -> None:
    first, retry = allow(), allow()
    batch = [(first, Claim(CN, "k1")), (retry, Claim(CN, "k1"))]
    settled = settle_batch(batch, {}, {})
    assert settled[1].decision == first and settled[1].new is False
    earlier = allow(at=T0 - timedelta(hours=1))
    (again,) = settle_batch([(retry, Claim(CN, "k1"))], {}, {("acme", "k1"): earlier})
    assert again.decision == earlier and again.new is False


def test_spans_and_locks() -> None:
    batch = [(allow(at=T0), Claim(CN)), (allow(at=T0 + timedelta(minutes=1)), Claim(CN, "k"))]
    assert spans(batch) == {("acme", "+8613800138000"): T0 - timedelta(days=1)}
    locks = lock_ids(batch)
    assert len(locks) == 2 and locks == sorted(locks)
    assert lock_ids(list(reversed(batch))) == locks


def test_a_pending_allow_already_stored_counts_once() -> None:
    earlier = T0 - timedelta(minutes=5)
    assert with_pending((earlier,), (T0,)) == (T0, earlier)
    assert with_pending((T0, earlier), (T0,)) == (T0, earlier)
    assert with_pending((T0,), (T0, T0)) == (T0, T0)
