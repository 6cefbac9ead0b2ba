"""Adapters of the invoicing service: tables and repository."""
