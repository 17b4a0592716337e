"""Weekly channel digests: content, schedule, delivery ledger, sender, charts."""
