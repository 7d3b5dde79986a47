"""Outages as weather: sorting failures into outages and verdicts (classify), and what workers wait
for right now, written in the catalog (notes)."""
