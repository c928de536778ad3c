"""Signed reports for a regulator: the quarterly self-assessment (季度自查)."""
