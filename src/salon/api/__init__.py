"""HTTP and WebSocket: parse, authenticate, call one service, answer."""
