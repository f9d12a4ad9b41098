"""Operator commands of billing."""
