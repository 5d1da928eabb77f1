"""Benchmarks: scripts that measure Salon on loopback, print a table and save JSON.

Run one with ``.venv/bin/python -m bench.<name>``; see bench/README.md.
"""
