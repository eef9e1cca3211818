"""Transports that carry SurrealDB RPC: embedded engine, WebSocket, HTTP."""
