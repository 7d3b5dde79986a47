"""Outages as weather: sorting failures into outages and verdicts (classify), and what workers wait
for right now, written in the catalog (notes)."""

from studio.outages.classify import OutageLog, classify_outage

__all__ = [
    "OutageLog",
    "classify_outage",
]
