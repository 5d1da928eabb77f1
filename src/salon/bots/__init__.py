"""Bots: real clients for demos, tests and load (WebRTC speakers, LL-HLS listeners)."""
