"""Throughput measurements (see README "Benchmarks"); importable so that run.py can reuse the others."""
