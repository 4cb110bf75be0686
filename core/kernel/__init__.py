"""The kernel: errors, money, ids, settings, caches, pagination, validation,
addresses, secrets and i18n.

The bottom layer: nothing here imports any other part of ``core``.
"""
