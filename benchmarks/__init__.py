"""Benchmarks: replay scripted prints through the detection pipeline."""
