"""Call recordings: an encrypted, region-confined vault, their metadata, ingest from the PBX spool,
retention by legal class with legal holds, verification and export.

Deliberately imports nothing at package level: ``dialguard.storage.schema`` imports
``dialguard.storage.recording_tables`` to register the tables, and must not pull in the rest.
"""
