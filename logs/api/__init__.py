"""The HTTP API: bearer authentication, the gateway's call push, customers' reads."""
