"""Caravan: headless commerce for cross-border direct-to-consumer brands."""

__version__ = "0.1.0"
