"""Bench commands: each prints one JSON object (see README for what each measures)."""
