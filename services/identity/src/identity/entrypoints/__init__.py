"""Entrypoints layer of the identity service."""
