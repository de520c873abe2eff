"""Benchmarks of pulumi-enkrypt against a minimal reference dynamic provider (see bench/README.md)."""
