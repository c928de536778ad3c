"""Call recordings: an encrypted, region-confined vault, their metadata, ingest from the PBX spool,
retention by legal class with legal holds, verification and export. Its tables and repository
are in :mod:`dialguard.storage` (``recording_tables``, ``recordings``, ``recording_records``).
"""
