"""Factora notifications service."""
