"""Developer kit: a real Asterisk in a throwaway container, SIPp, and the gate as a process.

Used by ``tests/e2e``, the README demo and the benchmarks; not shipped in the wheel.
"""
