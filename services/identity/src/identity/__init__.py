"""Factora identity service."""
