"""Coordination of concurrent work inside one process."""
