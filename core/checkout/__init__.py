"""Checkout: payment sessions, placing orders, idempotent retries."""
