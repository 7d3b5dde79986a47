"""Read models for the dashboard and `studio status`: batches, gates, lineage and status, read from
the catalog, never written."""
