"""`Idempotency-Key` on POST requests: a retry with the same key gets the first answer, and
whatever the first one charged is charged once (banatie.idempotency.middleware)."""
