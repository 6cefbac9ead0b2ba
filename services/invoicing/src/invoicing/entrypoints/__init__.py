"""Entrypoints layer of the invoicing service."""
