"""Settings of the ``[api]`` section."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiSettings:
    """``[api]``: the admin API, the compliance console, ``/health`` and ``/metrics``."""

    enabled: bool = True
    """Whether ``serve`` runs the HTTP listener (API, console, health, metrics)."""
    host: str = "127.0.0.1"
    """Address to listen on; beyond loopback set ``tls_cert_file`` and ``tls_key_file``."""
    port: int = 8080
    """TCP port."""
    optout_client_burst: int = 10
    """Public opt-outs one client address may send at once (token bucket size)…"""
    optout_client_per_hour: int = 60
    """…and the rate its bucket refills at; beyond it, 429 with ``Retry-After``."""
    optout_number_burst: int = 3
    """Opt-outs for one number at once, whoever sends them…"""
    optout_number_per_hour: int = 6
    """…and the rate that bucket refills at."""
    tls_cert_file: str = ""
    """PEM certificate chain: with ``tls_key_file`` the API server (every route on it) serves HTTPS
    only. Without them it serves plain HTTP, and ``serve`` warns if ``host`` is not loopback."""
    tls_key_file: str = ""
    """PEM private key of ``tls_cert_file`` (mode 0600)."""
    metrics_access: str = "loopback"
    """Who may scrape ``GET /metrics``: ``loopback`` (no token, clients on 127.0.0.0/8 or ::1
    only), ``token`` (a bearer token of role admin, operator or auditor, from anywhere) or
    ``off`` (404). Scrapes are not written to the audit log: metrics name no person."""
