"""``dialguard status``: ask the running ``dialguard serve`` its ``GET /health``.

The API's address comes from the settings (``api.host``, ``api.port``, HTTPS when
``api.tls_cert_file`` is set). Exit 0 healthy, 1 unhealthy (the database or a listener is down),
3 nothing answers (not running), 2 bad settings. It uses the standard library only, so it costs
no more than ``dialguard --help`` to start.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any

import click

from .runtime import emit_json, fail, state

EXIT_UNHEALTHY = 1
EXIT_NOT_RUNNING = 3


def _address(host: str) -> str:
    """Where to reach a server bound to ``host``: a wildcard means this host's loopback."""
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def _tls_context(cert_file: str) -> ssl.SSLContext:
    """Trust the server's own certificate (often self-signed for a local API) or the system's
    CAs; the name is not checked, the address being the configured one."""
    context = ssl.create_default_context()
    context.check_hostname = False
    try:
        context.load_verify_locations(cert_file)
    except (OSError, ssl.SSLError) as exc:
        fail(f"api.tls_cert_file: cannot load {cert_file} ({exc})")
    return context


def _ask(url: str, context: ssl.SSLContext | None, timeout: float) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as response:
            return int(response.status), json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: unhealthy, still a health document
        with exc:
            return exc.code, json.loads(exc.read() or b"null")


def _summary(body: Any) -> str:
    database = body.get("database", {})
    parts = [
        f"database {'ok' if database.get('ok') else 'UNREACHABLE'}"
        + (f" ({database['ms']} ms)" if "ms" in database else "")
    ]
    for name, listener in sorted(body.get("listeners", {}).items()):
        if not listener.get("enabled"):
            parts.append(f"{name} off")
        else:
            parts.append(f"{name} {'up' if listener.get('up') else 'DOWN'}")
    return ", ".join(parts)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the /health document as it came.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=3.0,
    help="Seconds to wait for the answer.",
)
@click.pass_context
def command(ctx: click.Context, as_json: bool, timeout: float) -> int:
    """Ask the running gate whether it is healthy (GET /health).

    Exit 0 healthy, 1 unhealthy (database or a listener down), 3 not running."""
    api = state(ctx).settings.api
    if not api.enabled:
        fail("api.enabled is false: status asks the API's GET /health; enable the API")
    scheme = "https" if api.tls_cert_file else "http"
    url = f"{scheme}://{_address(api.host)}:{api.port}/health"
    context = _tls_context(api.tls_cert_file) if api.tls_cert_file else None
    try:
        code, body = _ask(url, context, timeout)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        click.echo(
            f"not running: nothing answers at {url} ({reason}); start it with "
            "`systemctl start dialguard` or `dialguard serve` (or check api.host/api.port)",
            err=True,
        )
        return EXIT_NOT_RUNNING
    if not isinstance(body, dict) or "status" not in body:
        click.echo(f"not running: {url} answered {code} but is not a dialguard gate", err=True)
        return EXIT_NOT_RUNNING
    if as_json:
        emit_json(body)
    else:
        healthy = body["status"] == "ok"
        label = click.style("healthy" if healthy else "UNHEALTHY", fg="green" if healthy else "red")
        click.echo(f"{label}  dialguard {body.get('version', '?')} at {url}: {_summary(body)}")
    return 0 if code == 200 and body["status"] == "ok" else EXIT_UNHEALTHY
