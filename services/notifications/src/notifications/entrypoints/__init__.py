"""Entrypoints layer of the notifications service."""
