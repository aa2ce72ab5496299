"""Tests of the detector registry: what a new detector needs, and nothing more."""
