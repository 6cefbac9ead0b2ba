"""Service layer of the notifications service."""
