"""Adapters layer of the signing service."""
