"""Quarterdeck: customer success operations, from raw customer data to the weekly report."""

__version__ = "0.1.0"
