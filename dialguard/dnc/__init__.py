"""Do-not-call lists that live outside the database: the file importer, the national registries
and their on-disk index. The tenants' own lists are rows (``storage/dnc.py``); the audited
changes to them are ``ops/dnc.py``."""
