"""Events held for review: what is held, following the queue, and resolving held events."""
