"""Hostile inputs for ``tests/test_hostile.py``."""
