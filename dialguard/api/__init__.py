"""The admin API (aiohttp): the CLI's operations over HTTP with bearer tokens and roles, the
pre-dial check for dialers outside the PBX path, and the public opt-out.

``create_app(context)`` builds the application from the endpoint list in
:mod:`dialguard.api.routes`; :class:`ApiServer` runs it (``dialguard serve`` starts one when
``[api] enabled``).
"""

from .app import create_app
from .context import ApiContext
from .server import ApiServer

__all__ = ["ApiContext", "ApiServer", "create_app"]
