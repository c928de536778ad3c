"""What a scrape reads from the running parts (:class:`dialguard.metrics.Probes`), and that two
gates in one process keep separate registries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from dialguard.metrics import DncIndexState, GateMetrics, Probes

NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def samples(metrics: GateMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = metrics.exposition().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_probes_are_read_at_each_scrape() -> None:
    metrics = GateMetrics()
    in_flight = [3]
    failures = [0]
    metrics.watch(
        Probes(
            now=lambda: NOW,
            connections={"agi": lambda: in_flight[0], "esl": lambda: 1},
            recordings_pending=lambda: 4,
            recording_failures=lambda: failures[0],
            dnc_indexes=lambda: [DncIndexState("us.dnci", 7, NOW - timedelta(hours=2))],
            checkpoint_at=lambda: NOW - timedelta(seconds=3),
        )
    )
    got = samples(metrics)
    assert got[("dialguard_connections", (("transport", "agi"),))] == 3
    assert got[("dialguard_recordings_pending_ingest", ())] == 4
    assert got[("dialguard_recording_ingest_failures_total", ())] == 0
    assert got[("dialguard_dnc_index_generation", (("index", "us.dnci"),))] == 7
    assert got[("dialguard_dnc_index_age_seconds", (("index", "us.dnci"),))] == 7200
    assert got[("dialguard_audit_checkpoint_age_seconds", ())] == 3
    in_flight[0], failures[0] = 0, 2
    got = samples(metrics)
    assert got[("dialguard_connections", (("transport", "agi"),))] == 0
    assert got[("dialguard_recording_ingest_failures_total", ())] == 2


def test_commits_and_registries_are_per_gate() -> None:
    one, two = GateMetrics(), GateMetrics()
    one.committed(5, 0.004, ok=True)
    one.committed(1, 0.5, ok=False)
    got = samples(one)
    assert got[("dialguard_decision_commit_size_sum", ())] == 6
    assert got[("dialguard_decision_commit_failures_total", ())] == 1
    assert samples(two)[("dialguard_decision_commit_size_count", ())] == 0


def test_esl_phases_are_one_series_each() -> None:
    metrics = GateMetrics()
    metrics.esl_phase("uuid", 0.0004)
    metrics.esl_phase("acted", 0.003)
    metrics.esl_phase("acted", 0.005)
    got = samples(metrics)
    assert got[("dialguard_esl_phase_seconds_count", (("phase", "uuid"),))] == 1
    assert got[("dialguard_esl_phase_seconds_sum", (("phase", "acted"),))] == 0.008
    assert got[("dialguard_esl_phase_seconds_bucket", (("le", "0.0005"), ("phase", "uuid")))] == 1
