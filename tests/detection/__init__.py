"""Tests for failure detection."""
