"""Domain rules of the signing service: pure Python, no I/O."""
