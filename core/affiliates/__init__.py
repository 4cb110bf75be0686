"""Affiliates: the provider contract of KOL programmes and the commissions they earn on orders."""
