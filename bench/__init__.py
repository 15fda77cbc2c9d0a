"""Benchmarks of the guard: ``python -m bench`` (see docs/BENCHMARKS.md)."""
