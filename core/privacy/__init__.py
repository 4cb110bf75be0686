"""A shopper's personal data in a store: export it, erase it (GDPR Art. 15, 17 and 20; CCPA)."""
