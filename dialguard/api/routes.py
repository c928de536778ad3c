"""Every endpoint of the admin API, in one explicit list: adding a resource module is one line.

Each module declares its endpoints (method, path, access class, inputs, replies, handler) as an
``ENDPOINTS`` tuple; :func:`dialguard.api.app.create_app` mounts exactly these, in this order.
"""

from __future__ import annotations

from . import (
    audit,
    check,
    consent,
    decisions,
    dnc,
    dsr,
    frequency,
    health,
    numbers,
    openapi,
    optout,
    recordings,
    scripts,
    tenants,
    text,
    tokens,
)
from .endpoint import Endpoint

ENDPOINTS: tuple[Endpoint, ...] = (
    *openapi.ENDPOINTS,
    *health.ENDPOINTS,
    *tenants.ENDPOINTS,
    *numbers.ENDPOINTS,
    *dnc.ENDPOINTS,
    *consent.ENDPOINTS,
    *frequency.ENDPOINTS,
    *check.ENDPOINTS,
    *text.ENDPOINTS,
    *scripts.ENDPOINTS,
    *decisions.ENDPOINTS,
    *recordings.ENDPOINTS,
    *audit.ENDPOINTS,
    *dsr.ENDPOINTS,
    *optout.ENDPOINTS,
    *tokens.ENDPOINTS,
)
