"""Helpers for the tests and benchmarks that drive the real app (no Qt imported here)."""
