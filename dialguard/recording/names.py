"""How the gate names a call's recording, which the spool sweep reads back."""

from __future__ import annotations

import re

ASTERISK_UNIQUEID = re.compile(r"[0-9]+\.[0-9]+")
"""Asterisk's ``<epoch>.<counter>`` uniqueid: a recording is ``dg-<uniqueid>`` when the call's
uniqueid has this form (:meth:`dialguard.gate.verdict.GateVerdict.from_decision`), else
``dg-<decision id>``."""
