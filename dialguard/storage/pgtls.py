"""TLS to PostgreSQL, written in ``database.url`` the way libpq writes it::

    postgresql+asyncpg://dialguard:…@db.example:5432/dialguard?ssl=verify-full&sslrootcert=/etc/dialguard/pg-ca.pem

``ssl`` (or libpq's name, ``sslmode``) is one of:

* ``verify-full`` — the server's certificate must chain to ``sslrootcert`` (the system's CAs
  when it is left out) and name the URL's host: the one mode that keeps a machine in the middle
  out, and the one to use whenever the database is not on this host;
* ``verify-ca`` — the chain is checked, the name is not;
* ``require`` — encrypted, but nothing says who answers; ``prefer``, ``allow``, ``disable`` —
  possibly, or certainly, in clear.

``sslcert`` and ``sslkey`` add a client certificate (with a verify mode), for servers that
authenticate clients by certificate.

SQLAlchemy hands the URL's query to ``asyncpg.connect`` as keywords, and asyncpg takes the CA
file only from the environment or ``~/.postgresql``: so the verify modes become an
``ssl.SSLContext`` here, built once when the engine is made (a bad CA file stops the start).
"""

from __future__ import annotations

import ssl
from typing import Any

from sqlalchemy.engine import URL

from ..settings.errors import ConfigError

MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
VERIFYING = ("verify-ca", "verify-full")
_FILES = ("sslrootcert", "sslcert", "sslkey")


def _one(query: dict[str, str | tuple[str, ...]], name: str) -> str | None:
    value = query.pop(name, None)
    if isinstance(value, tuple):
        raise ConfigError(f"database.url: {name} is given more than once")
    return value


def tls_connect_args(url: URL) -> tuple[URL, dict[str, Any]]:
    """``url`` without its TLS parameters, and the ``connect_args`` that carry them to asyncpg."""
    query = dict(url.query)
    ssl_mode, sslmode = _one(query, "ssl"), _one(query, "sslmode")
    if ssl_mode is not None and sslmode is not None:
        raise ConfigError("database.url: give ssl or sslmode, not both")
    mode = ssl_mode if ssl_mode is not None else sslmode
    files = {name: _one(query, name) for name in _FILES}
    stripped = url.set(query=query)
    given = [name for name, value in files.items() if value is not None]
    if mode is not None and mode not in MODES:
        raise ConfigError(f"database.url: ssl={mode!r} is not one of {', '.join(MODES)}")
    if mode not in VERIFYING:
        if given:
            raise ConfigError(f"database.url: {given[0]} needs ssl=verify-full (or verify-ca)")
        return stripped, {} if mode is None else {"ssl": mode}
    if (files["sslcert"] is None) != (files["sslkey"] is None):
        raise ConfigError("database.url: sslcert and sslkey go together")
    try:
        context = ssl.create_default_context(cafile=files["sslrootcert"])
        if files["sslcert"] is not None:
            context.load_cert_chain(files["sslcert"], files["sslkey"])
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"database.url: cannot load the TLS files ({exc})") from None
    context.check_hostname = mode == "verify-full"
    return stripped, {"ssl": context}
