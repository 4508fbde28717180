"""Benchmarks of caring-societies: ``python benchmarks/run.py`` writes ``benchmarks/RESULTS.md``."""
