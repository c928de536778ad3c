"""The compliance officer's console: server-rendered pages under ``/console/`` on the API's
listener (:func:`add_console`), signed in with an API token, audited like the API."""

from __future__ import annotations

from .app import add_console

__all__ = ["add_console"]
