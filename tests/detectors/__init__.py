"""Tests of the OpenAI-compatible and AI Task detectors, frames and cost accounting."""
