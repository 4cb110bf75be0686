"""Payments: the provider contract and the payments taken for orders."""
