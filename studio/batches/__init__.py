"""A batch's life outside the workflows: launching, the launch preview and estimate, replay and rerun,
lineage, publishing and closing."""
