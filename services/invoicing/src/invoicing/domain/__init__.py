"""Domain layer of the invoicing service."""
