"""Workflow code, orchestration only: BatchWorkflow and ShotWorkflow, a take's render chain, and how
cheap stages run so that an outage waits. Nothing here does I/O or reads the clock directly."""
