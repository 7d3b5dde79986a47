"""Activities, thin by rule: load by id, call, store, record. The stage activities, the batch-end
activities, what every provider call shares, and renders kept across an outage."""
