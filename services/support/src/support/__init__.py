"""Factora support service."""
