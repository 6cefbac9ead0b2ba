"""Adapters layer of the support service."""
