"""Tests of the benchmarks that write README tables."""
