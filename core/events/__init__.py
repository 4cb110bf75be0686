"""Domain events: the transactional outbox, the worker, subscribers and signed webhooks."""
