"""Service layer of the invoicing service."""
