"""Local stand-ins for outside services Salon talks to (only what Salon calls)."""
