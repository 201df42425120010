"""Qumulus: a self-hostable quantum cloud."""

__version__ = "0.1.0"
