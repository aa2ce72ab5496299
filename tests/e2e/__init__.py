"""End-to-end tests: Print Sentinel in a real Home Assistant (see README.md)."""
