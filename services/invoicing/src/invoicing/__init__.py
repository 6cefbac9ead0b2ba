"""Factora invoicing service."""
