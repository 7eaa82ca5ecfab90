"""Scenarios as data: the typed schema, the TOML files that hold scenarios, and how they are read."""
