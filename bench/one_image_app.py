"""The floor for bench/client_review.py: a Streamlit page that shows one image and nothing else."""

from __future__ import annotations

import io

import streamlit as st
from PIL import Image

buffer = io.BytesIO()
Image.new("RGB", (640, 480), (200, 120, 60)).save(buffer, format="PNG")
st.title("One image")
st.image(buffer.getvalue(), caption="Take 1")
