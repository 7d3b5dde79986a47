"""Running the studio on Temporal: the worker, the embedded dev server, connecting to a cluster,
payload offload, the outage guard and telemetry."""
