"""Operator commands of logs, and how they read their arguments."""
