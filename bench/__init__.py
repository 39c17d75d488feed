"""Benchmarks of the summary builds on PostgreSQL: ``python -m bench.run`` (see README.md)."""
