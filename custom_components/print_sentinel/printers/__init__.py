"""Printer backends: one module per printer family (see base.py)."""
