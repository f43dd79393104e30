"""Benchmarks at ten million calls (make bench); not part of the test suite."""
