"""Prometheus metrics of one running gate (``GET /metrics`` on the API listener).

:class:`GateMetrics` owns its own :class:`~prometheus_client.CollectorRegistry`: no module-global
registry, so two gates in one process (tests) never share or double-register series. Two kinds:

- Events counted as they happen, through hooks the gate calls: :meth:`GateMetrics.decided`
  (each decision stored: verdict, reasons, latency), :meth:`GateMetrics.failed` (the gate's own
  denials: ``gate.timeout``, ``gate.error``), :meth:`GateMetrics.committed` (one group commit
  of the decision log: its size and how long it took) and :meth:`GateMetrics.esl_phase` (how
  far into an outbound-socket conversation each step was reached: where a call's wait goes).
- State read when scraped, through :class:`Probes` (plain callables the app wires): connections
  in flight per transport, recordings waiting in the spool and failed ingests, the national DNC
  indexes' generation and age, the age of the last signed audit checkpoint.

Counts are per process: with ``agi.workers > 1`` the extra FastAGI processes' decisions are not
in ``serve``'s numbers (their stored decisions are, in the console and reports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .policy.model import Decision

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

LATENCY_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 1.5, 2.5, 5.0)
"""Seconds; the gate's default budget is 1.5 s."""
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500)
PHASE_BUCKETS = (0.0002, 0.0005, *LATENCY_BUCKETS)
"""Seconds; an ESL conversation's first phases take well under a millisecond."""


@dataclass(frozen=True)
class DncIndexState:
    name: str
    generation: int
    modified_at: datetime
    """When the index file was last replaced (its mtime)."""


@dataclass
class Probes:
    """What the scrape reads from the running gate; each is optional (a part not running)."""

    now: Callable[[], datetime]
    connections: dict[str, Callable[[], int]] = field(default_factory=dict)
    """Transport name (``agi``, ``esl``) → calls in flight on it."""
    recordings_pending: Callable[[], int] | None = None
    recording_failures: Callable[[], int] | None = None
    dnc_indexes: Callable[[], list[DncIndexState]] | None = None
    checkpoint_at: Callable[[], datetime | None] | None = None
    """When the last audit checkpoint was signed (``None``: none yet)."""


class GateMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.decisions = Counter(
            "dialguard_decisions", "Decisions stored, by verdict.", ["verdict"], registry=r
        )
        self.reasons = Counter(
            "dialguard_decision_reasons",
            "Reasons given by stored decisions (a denial may give several).",
            ["verdict", "reason"],
            registry=r,
        )
        self.latency = Histogram(
            "dialguard_decision_latency_seconds",
            "Time to decide one call (fact lookup and policy), stored decisions only.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.gate_failures = Counter(
            "dialguard_gate_failures",
            "Calls the gate denied itself: reason gate.timeout (over budget) or gate.error.",
            ["reason"],
            registry=r,
        )
        self.commit_size = Histogram(
            "dialguard_decision_commit_size",
            "Decisions written per group commit of the decision log.",
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.commit_latency = Histogram(
            "dialguard_decision_commit_seconds",
            "Duration of one group commit (insert, audit entries, commit).",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.commit_failures = Counter(
            "dialguard_decision_commit_failures", "Group commits that failed.", registry=r
        )
        self.esl_phases = Histogram(
            "dialguard_esl_phase_seconds",
            "Time from accepting a FreeSWITCH outbound-socket connection to each step of its "
            "conversation: uuid (known), dump (channel data in), decided (decision stored), "
            "sent (verdict written), acted (FreeSWITCH answered the verdict's commands).",
            ["phase"],
            buckets=PHASE_BUCKETS,
            registry=r,
        )

    def decided(self, decision: Decision) -> None:
        verdict = decision.verdict.value
        self.decisions.labels(verdict).inc()
        for reason in decision.reasons:
            self.reasons.labels(verdict, reason.code).inc()
        if decision.latency_ms is not None:
            self.latency.observe(decision.latency_ms / 1000)

    def failed(self, reason: str) -> None:
        self.gate_failures.labels(reason).inc()

    def committed(self, size: int, seconds: float, ok: bool) -> None:
        self.commit_size.observe(size)
        self.commit_latency.observe(seconds)
        if not ok:
            self.commit_failures.inc()

    def esl_phase(self, phase: str, seconds: float) -> None:
        self.esl_phases.labels(phase).observe(seconds)

    def watch(self, probes: Probes) -> None:
        """Read ``probes`` at every scrape (call once per running gate)."""
        self.registry.register(_StateCollector(probes))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _StateCollector(Collector):
    def __init__(self, probes: Probes) -> None:
        self._p = probes

    def collect(self) -> Iterator[Metric]:
        p = self._p
        now = p.now()
        yield _gauge(
            "dialguard_connections",
            "Calls in flight per transport.",
            {name: fn() for name, fn in p.connections.items()},
            "transport",
        )
        if p.recordings_pending is not None:
            yield GaugeMetricFamily(
                "dialguard_recordings_pending_ingest",
                "Recordings in the spool at the last sweep, not yet ingested.",
                value=p.recordings_pending(),
            )
        if p.recording_failures is not None:
            yield CounterMetricFamily(
                "dialguard_recording_ingest_failures",
                "Spooled recordings whose ingest failed.",
                value=p.recording_failures(),
            )
        indexes = p.dnc_indexes() if p.dnc_indexes is not None else []
        yield _gauge(
            "dialguard_dnc_index_generation",
            "Generation of each national DNC index file in use.",
            {i.name: i.generation for i in indexes},
            "index",
        )
        yield _gauge(
            "dialguard_dnc_index_age_seconds",
            "Seconds since each national DNC index file was replaced.",
            {i.name: (now - i.modified_at).total_seconds() for i in indexes},
            "index",
        )
        signed = p.checkpoint_at() if p.checkpoint_at is not None else None
        if signed is not None:
            yield GaugeMetricFamily(
                "dialguard_audit_checkpoint_age_seconds",
                "Seconds since the last signed audit checkpoint.",
                value=(now - signed).total_seconds(),
            )

    def describe(self) -> Iterator[Metric]:
        return iter(())


def _gauge(name: str, doc: str, values: Mapping[str, float], label: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family
