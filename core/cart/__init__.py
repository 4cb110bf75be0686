"""Carts: lines, addresses and totals recomputed through one pipeline on every change."""
