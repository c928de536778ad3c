"""Recording settings: the ``[recording]`` section (``DIALGUARD_RECORDING_*`` in the environment).

Maps are written as ``key=value`` lists (``"cn=/var/lib/dialguard/recordings/cn,eu=/srv/eu"``)
because every setting is also an environment variable and a ``--set`` flag; they are parsed here
(:meth:`RecordingSettings.regions_map`, :meth:`RecordingSettings.tenant_region_map`) and checked
in :mod:`dialguard.settings.checks`, naming the bad key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .checks import check_regions, check_tenant_regions
from .errors import ConfigError

if TYPE_CHECKING:
    import ssl


def _pairs(key: str, raw: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ConfigError(f"recording.{key}: expected name=value, got {item!r}")
        if name in pairs:
            raise ConfigError(f"recording.{key}: {name!r} is given twice")
        pairs[name] = value
    return pairs


@dataclass(frozen=True)
class RecordingSettings:
    """``[recording]``: the encrypted vault that takes in the PBX's recordings, its regions and
    sweeps, and the Asterisk manager (AMI) connection that announces finished recordings."""

    enabled: bool = True
    """Whether ``serve`` takes finished recordings into the vault (and ``init`` creates the
    keyring). Which calls are recorded is the rule pack's decision."""
    spool_dir: str = "/var/spool/asterisk/monitor"
    """Where MixMonitor / record_session leave finished ``dg-<id>.wav`` files."""
    keyring_file: str = "/etc/dialguard/recording-keys.json"
    """Master keys (``dialguard keys init`` creates it); must not be readable by others."""
    regions: str = "cn=/var/lib/dialguard/recordings/cn"
    """``region=root`` list: each region's vault root. A recording never leaves its root."""
    tenant_regions: str = ""
    """``tenant=region`` list; tenants not named here are in ``default_region``."""
    default_region: str = "cn"
    """Region of the tenants ``tenant_regions`` does not name; one of ``regions``."""
    spool_sweep_interval_s: int = 300
    """How often the spool directory is swept for files no AMI event announced (0: start only)."""
    spool_min_age_s: int = 60
    """A swept file is ingested only when unchanged this long and its channel is not active."""
    spool_orphan_age_s: int = 21600
    """Without a list of active channels (AMI down), a swept file must be unchanged this long."""
    hangup_settle_s: int = 2
    """After ``Hangup`` MixMonitor closes the file on its own thread: wait until it is unchanged
    this long before ingesting."""
    retention_sweep_interval_s: int = 3600
    """How often ``dialguard serve`` runs the retention sweep (0: only ``retention sweep``)."""
    ami_host: str = "127.0.0.1"
    """Asterisk's manager interface (AMI), which announces finished recordings (``Hangup``,
    ``MixMonitorStop``) and lists live channels for the spool sweep."""
    ami_port: int = 5038
    """AMI port (Asterisk's TLS manager port, usually 5039, with ``ami_tls``)."""
    ami_username: str = "dialguard"
    """The ``manager.conf`` login: read ``call``, write ``reporting``, nothing more."""
    ami_secret: str = ""
    """Empty: no AMI listener; recordings are then found by the spool sweep only."""
    ami_tls: bool = False
    """Connect to Asterisk's TLS manager port (``manager.conf``: ``tlsenable = yes``, usually on
    5039; set ``ami_port`` to it), checking its certificate and that it names ``ami_host``.
    Without it the login and every call's events cross the network in clear."""
    ami_tls_ca_file: str = ""
    """PEM CA that signed Asterisk's manager certificate (empty: the system's CAs)."""

    def ami_tls_context(self) -> ssl.SSLContext | None:
        """The client context for the AMI connection, None without ``ami_tls``."""
        if not self.ami_tls:
            if self.ami_tls_ca_file:
                raise ConfigError(
                    "recording.ami_tls_ca_file: set recording.ami_tls = true to use it"
                )
            return None
        import ssl  # here: every command reads these settings, few connect to the AMI

        try:
            return ssl.create_default_context(cafile=self.ami_tls_ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"recording.ami_tls_ca_file: cannot load ({exc})") from None

    def regions_map(self) -> dict[str, Path]:
        """``regions`` as region → vault root, checked by :func:`check_regions`."""
        roots = {name: Path(root) for name, root in _pairs("regions", self.regions).items()}
        check_regions(roots, self.default_region)
        return roots

    def tenant_region_map(self) -> dict[str, str]:
        """``tenant_regions`` as tenant → region, checked by :func:`check_tenant_regions`."""
        mapping = _pairs("tenant_regions", self.tenant_regions)
        check_tenant_regions(mapping, self.regions_map())
        return mapping

    def region_for(self, tenant: str) -> str:
        return self.tenant_region_map().get(tenant, self.default_region)
