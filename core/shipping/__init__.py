"""Shipping: the provider contract; zones and rates live in the shipping providers (plugins)."""
