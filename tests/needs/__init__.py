"""Tests of the needs feature (issue 3)."""
