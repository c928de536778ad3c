"""Nothing in clear off the machine: the API serves HTTPS when given a certificate, and ``serve``
warns about every listener that would carry calls or personal data in clear beyond loopback."""

from __future__ import annotations

import logging
import ssl
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
from builders import WEDNESDAY_10, gate_settings

from devkit.tls import write_pki
from dialguard.api.server import tls_context
from dialguard.app import GateApp
from dialguard.clock import Clock
from dialguard.config import Settings
from dialguard.preflight import Reach, reach, warn_about_cleartext
from dialguard.settings.api import ApiSettings
from dialguard.settings.errors import ConfigError
from dialguard.storage.migrate import init_database


async def test_serve_answers_the_api_over_https_only(tmp_path: Path) -> None:
    pki = write_pki(tmp_path / "pki", ("localhost", "127.0.0.1"))
    base = gate_settings(tmp_path)
    api = ApiSettings(port=0, tls_cert_file=str(pki.cert_file), tls_key_file=str(pki.key_file))
    settings = replace(base, api=api)
    await init_database(settings)
    app = GateApp(settings, Clock(WEDNESDAY_10))
    await app.start()
    try:
        assert app.api is not None and app.api.tls
        client = ssl.create_default_context(cafile=str(pki.ca_file))
        async with aiohttp.ClientSession() as session:
            url = f"https://127.0.0.1:{app.api.port}/v1/openapi.json"
            async with session.get(url, ssl=client) as response:
                assert response.status == 200
                assert (await response.json())["openapi"].startswith("3.")
            with pytest.raises(aiohttp.ClientError):
                async with session.get(url.replace("https:", "http:")) as response:
                    await response.read()
            with pytest.raises(aiohttp.ClientConnectorCertificateError):
                async with session.get(url, ssl=ssl.create_default_context()) as response:
                    await response.read()
    finally:
        await app.stop()


def test_half_a_tls_configuration_is_refused_naming_the_missing_setting(tmp_path: Path) -> None:
    pki = write_pki(tmp_path)
    with pytest.raises(ConfigError, match=r"^api\.tls_key_file: needed with the other"):
        tls_context(ApiSettings(tls_cert_file=str(pki.cert_file)))
    with pytest.raises(ConfigError, match=r"^api\.tls_cert_file/api\.tls_key_file: cannot load"):
        tls_context(ApiSettings(tls_cert_file=str(pki.cert_file), tls_key_file=str(pki.ca_file)))


def warnings_for(settings: Settings, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Each warning as ``<its first two words>@<host>``."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="dialguard"):
        warn_about_cleartext(settings)
    return [
        " ".join(r.getMessage().split()[:2]) + f"@{getattr(r, 'fields', {})['host']}"
        for r in caplog.records
    ]


def test_serve_warns_about_listeners_in_clear_beyond_loopback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    base = Settings()
    assert warnings_for(base, caplog) == []  # the defaults: everything on 127.0.0.1
    public = replace(
        base,
        agi=replace(base.agi, host="0.0.0.0"),
        esl=replace(base.esl, host="::"),
        api=replace(base.api, host="10.1.2.3"),
        recording=replace(base.recording, ami_host="10.9.9.9", ami_secret="s"),
    )
    assert warnings_for(public, caplog) == [
        "FastAGI listens@0.0.0.0",
        "ESL listens@::",
        "the AMI@10.9.9.9",
        "the admin@10.1.2.3",
    ]
    private = replace(
        base,
        agi=replace(base.agi, host="192.168.10.5"),
        esl=replace(base.esl, host="10.0.0.7"),
        api=replace(base.api, host="0.0.0.0", tls_cert_file="c.pem", tls_key_file="k.pem"),
        recording=replace(public.recording, ami_tls=True),
    )
    assert warnings_for(private, caplog) == []
    off = replace(
        public,
        agi=replace(public.agi, enabled=False),
        api=replace(public.api, enabled=False),
        recording=replace(public.recording, enabled=False),
    )
    assert warnings_for(off, caplog) == ["ESL listens@::"]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", Reach.LOOPBACK),
        ("::1", Reach.LOOPBACK),
        ("localhost", Reach.LOOPBACK),
        ("10.0.0.7", Reach.PRIVATE),
        ("fd00::5", Reach.PRIVATE),
        ("169.254.1.1", Reach.PRIVATE),
        ("0.0.0.0", Reach.PUBLIC),
        ("::", Reach.PUBLIC),
        ("", Reach.PUBLIC),
        ("203.0.113.9", Reach.PRIVATE),  # TEST-NET-3: documentation space, not global
        ("8.8.8.8", Reach.PUBLIC),
        ("no-such-host.invalid", Reach.PUBLIC),
    ],
)
def test_reach_of_a_listening_address(host: str, expected: Reach) -> None:
    assert reach(host) is expected
