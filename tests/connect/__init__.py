"""Tests for the Prusa Connect snapshot upload."""
