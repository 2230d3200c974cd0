"""Benchmarks of Abonent against this machine's own ceilings (see bench/README.md)."""
