"""Typed live events and the buses that carry them."""
