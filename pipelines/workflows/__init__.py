"""Workflow code, orchestration only: BatchWorkflow and ShotWorkflow, a take's render chain, and how
cheap stages run so that an outage waits. Nothing here does I/O or reads the clock directly.

Import from the modules (``batch``, ``shot``): the worker and the replay tests name them."""
