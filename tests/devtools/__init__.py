"""Tests of the developer tools and benchmarks."""
