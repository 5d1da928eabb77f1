"""Low-Latency HLS (RFC 8216bis): AAC in fMP4 parts, the playlist, blocking reload."""
