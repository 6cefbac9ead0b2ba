"""Adapters layer of the identity service."""
