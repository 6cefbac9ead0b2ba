"""Entrypoints layer of the support service."""
