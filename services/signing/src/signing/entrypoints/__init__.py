"""Entrypoints layer of the signing service."""
