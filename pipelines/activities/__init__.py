"""Activities, thin by rule: load by id, call, store, record. interface declares every activity
(name, input, result) for workflow code to call by reference; stages, rendering, planning and
batch_end implement them; provider_registry builds the providers a worker can call from settings;
provider_calls is what every provider call shares; unsaved keeps renders made during an outage.

This package exports nothing on purpose: workflow code imports only ``interface``, and an
export here would pull every vendor SDK into the workflows and the CLI."""
