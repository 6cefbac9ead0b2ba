"""Service layer of the signing service."""
