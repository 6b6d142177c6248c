"""Idempotency keys: a retried POST with the same `Idempotency-Key` gets the first answer."""
