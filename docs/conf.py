"""Sphinx configuration for the netref documentation."""

project = "netref"
author = "the netref developers"
copyright = "2026, the netref developers"
extensions: list[str] = []
exclude_patterns = ["_build"]
html_theme = "alabaster"
nitpicky = True
