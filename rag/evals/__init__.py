"""Measurement: gold sets, public datasets, the naive baseline, planted attacks, benchmarks and their commands."""
