"""``database.url``'s TLS parameters: the verify modes become an SSL context with the CA file,
the others pass through, and a bad combination is refused naming the parameter."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from devkit.tls import write_pki
from dialguard.config import ConfigError
from dialguard.storage.pgtls import tls_connect_args

BASE = "postgresql+asyncpg://dg:pw@db.example:5432/dialguard"


def test_verify_full_checks_the_chain_and_the_name(tmp_path: Path) -> None:
    pki = write_pki(tmp_path)
    url, args = tls_connect_args(make_url(f"{BASE}?ssl=verify-full&sslrootcert={pki.ca_file}"))
    context = args["ssl"]
    assert isinstance(context, ssl.SSLContext)
    assert context.check_hostname and context.verify_mode is ssl.CERT_REQUIRED
    assert dict(url.query) == {}  # asyncpg.connect takes no sslrootcert keyword
    _, args = tls_connect_args(make_url(f"{BASE}?sslmode=verify-ca&sslrootcert={pki.ca_file}"))
    assert not args["ssl"].check_hostname and args["ssl"].verify_mode is ssl.CERT_REQUIRED


def test_other_modes_pass_through_and_no_mode_adds_nothing() -> None:
    url, args = tls_connect_args(make_url(f"{BASE}?ssl=require&application_name=gate"))
    assert args == {"ssl": "require"} and dict(url.query) == {"application_name": "gate"}
    assert tls_connect_args(make_url(BASE))[1] == {}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("ssl=verify-everything", "ssl='verify-everything' is not one of"),
        ("ssl=require&sslrootcert=/ca.pem", "sslrootcert needs ssl=verify-full"),
        ("sslrootcert=/ca.pem", "sslrootcert needs ssl=verify-full"),
        ("ssl=verify-full&sslmode=require", "give ssl or sslmode, not both"),
        ("ssl=verify-full&sslcert=/c.pem", "sslcert and sslkey go together"),
        ("ssl=verify-full&sslrootcert=/nonexistent/ca.pem", "cannot load the TLS files"),
        ("ssl=verify-full&ssl=verify-ca", "ssl is given more than once"),
    ],
)
def test_bad_tls_parameters_are_refused_naming_them(query: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^database.url: {message}"):
        tls_connect_args(make_url(f"{BASE}?{query}"))
