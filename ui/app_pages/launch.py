"""Launch: pick a sample or upload a project.toml, check it, see what it will do, start it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pipelines.ui_actions import ActionFailed, ConnectionFailed, launch_project
from studio.assets import AssetStoreError
from studio.launch_preview import (
    estimate,
    load_sample,
    load_upload,
    sample_projects,
    save_upload,
)
from studio.project import Project, ProjectError
from ui import routes
from ui.notices import notify, show_notices
from ui.resources import current_settings

settings = current_settings()
st.title("Launch")
st.caption("Validate a storyboard, see what it will render, and start it as a durable batch.")
show_notices()

samples = sample_projects()
source = st.segmented_control(
    "Project", ["sample", "upload"], default="sample", required=True, key="launch-source",
    format_func={"sample": "A sample project", "upload": "Upload project.toml"}.get,
)

project: Project | None = None
path: Path | None = None
upload: tuple[str, bytes] | None = None
try:
    if source == "upload":
        uploaded = st.file_uploader("project.toml", type=["toml"], key="launch-upload")
        if uploaded is None:
            st.caption("The format is described in sample_projects/README.md.")
        else:
            upload = (uploaded.name, uploaded.getvalue())
            project = load_upload(settings, *upload)
    elif not samples:
        st.info("No sample projects are installed; upload a project.toml instead.")
    else:
        name = st.selectbox("Sample", list(samples), key="launch-sample")
        path = samples[name]
        project = load_sample(name)
except ProjectError as err:
    st.error(str(err), icon=":material/error:")
    project = None

if project is not None:
    guess = estimate(project)
    st.subheader(project.name)
    shots, takes, cost = st.columns(3)
    shots.metric("Shots", guess.shots)
    takes.metric("Takes", guess.takes)
    cost.metric("Cost", "free", help=guess.cost)
    st.caption(
        f"{guess.cost.capitalize()}. "
        + ("Every shot waits for approval before it is published." if guess.approval_required
           else "The automated review picks each shot's best take; nothing waits for approval.")
    )
    with st.expander("Shots"):
        st.dataframe(
            {
                "shot": [s.id for s in project.shots],
                "takes": [s.variants for s in project.shots],
                "size": [f"{s.width}×{s.height}" for s in project.shots],
                "prompt": [s.prompt for s in project.shots],
            },
            hide_index=True,
            width="stretch",
        )
    if st.button("Start batch", type="primary", icon=":material/rocket_launch:", key="launch-start"):
        try:
            # A project on screen came from an upload or a sample folder, so one of the two is set.
            target = save_upload(settings, *upload) if upload is not None else path
            batch_id = launch_project(settings, target or "")
        except ProjectError as err:
            st.error(str(err), icon=":material/error:")
        except (ConnectionFailed, ActionFailed, AssetStoreError) as err:
            st.error(str(err), icon=":material/cloud_off:")
        else:
            notify("success", f"Started batch {batch_id}.")
            st.session_state["launched-batch"] = batch_id
            st.rerun()

launched = st.session_state.get("launched-batch")
if launched:
    st.page_link(routes.BATCH, label=f"Watch batch {launched}", icon=":material/arrow_forward:",
                 query_params={routes.BATCH_PARAM: launched})
