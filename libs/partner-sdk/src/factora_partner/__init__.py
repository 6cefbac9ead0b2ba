"""Factora partner SDK: what a partner system needs to send invoices into the network."""
