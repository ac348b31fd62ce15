"""Banatie: prompt in, production-ready image out."""

__version__ = "0.1.0"
