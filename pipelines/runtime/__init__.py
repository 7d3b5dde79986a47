"""Running the studio on Temporal: the worker, the embedded dev server, connecting to a cluster,
payload offload, the outage guard and telemetry.

This package exports nothing on purpose: the CLI imports ``connection`` alone, and an export of
the worker here would pull every activity and vendor SDK into each command."""
