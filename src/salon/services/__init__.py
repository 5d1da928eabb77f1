"""Use cases: each function checks (authorizes and validates), does, commits, then publishes."""
