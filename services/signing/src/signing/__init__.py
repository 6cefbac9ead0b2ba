"""Factora signing service."""
