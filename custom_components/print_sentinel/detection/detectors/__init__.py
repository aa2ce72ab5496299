"""Failure detectors: one module per service, all returning a Verdict."""
