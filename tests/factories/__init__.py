"""Builders the tests share: stores ready to sell, check out or hold stock, events and
webhook receivers, products, affiliate orders (fixtures stay in the conftests)."""
