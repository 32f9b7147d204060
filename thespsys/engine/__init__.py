"""Plain objects that do and decide, unit-tested without actors: processing a
partition, scheduling runs, restarts, failure decisions, lags, status,
rescaling, the dead-letter queue, prompt routes."""
