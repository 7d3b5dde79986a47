"""Which provider renders and what happens when it fails: the chain, failover decisions, and which
take a shot publishes. Plain functions, no I/O."""
