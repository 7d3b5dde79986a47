"""A page holding only the client page's compare and download sections, for AppTest.

Run by tests/ui/test_review_sections.py with ``?batch=<id>``: every waiting shot gets its compare
section, then the batch its downloads, as the client page lays them out.
"""

from __future__ import annotations

import streamlit as st

from studio.views.gates import pending_gates
from ui.compare import compare_section
from ui.deliverables import deliverables_section
from ui.resources import current_settings, open_catalog

settings = current_settings()
catalog = open_catalog(settings)
batch = catalog.batch(st.query_params["batch"])
for gate in sorted(pending_gates(catalog, batch_id=batch.id), key=lambda g: g.position):
    st.subheader(gate.shot_id)
    compare_section(settings, catalog, gate)
deliverables_section(settings, catalog, batch)
