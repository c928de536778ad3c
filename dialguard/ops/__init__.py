"""Every audited admin action, once: validate, change, append *the* audit entry with *the*
masking and the evidence of the rows it touched, in one transaction.

The CLI (:mod:`dialguard.cli`) and the admin API (:mod:`dialguard.api`) parse their input, call
one of these functions and print or answer its result; neither writes audit entries or business
rules of its own, so two doors cannot leave two kinds of evidence for the same act. One module
per feature area; :mod:`.audited` holds what they share. :mod:`.recording_runtime` (what
``serve`` runs for recordings) and :mod:`.recording_testing` (the tests' rig) are here because
every ingest and deletion they make is one of these audited operations.
"""
