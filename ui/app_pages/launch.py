"""Launch: pick a sample or upload a project.toml, check it, see what it will do, start it."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from pipelines.client.ui_actions import ActionFailed, ConnectionFailed, launch_project
from studio.batches.preview import (
    call_plan,
    estimate,
    load_sample,
    load_upload,
    render_notices,
    sample_projects,
    save_upload,
)
from studio.project.loader import Project, ProjectError
from studio.storage.local import AssetStoreError
from ui import routes
from ui.badges import money
from ui.notices import notify, show_notices
from ui.resources import current_settings

ESTIMATE_HELP = (
    "Each take rendered by the first provider of its shot's chain that this dashboard has a key for, plus an "
    "upscale where the shot asks for one and a review, at the studio's prices (STUDIO_PRICES overrides them). "
    "Failovers, retries and rounds of changes cost more."
)


def _literal(line: str) -> str:
    """A one-line error shown as written: Markdown's emphasis, links, math and HTML taken literally.

    The line names a file the uploader chose and values from their project, so ``*``, ``$`` or
    ``[text](url)`` in them must not restyle the message (control characters are escaped already).
    """
    for char in "\\[]*_`$<>#~|":
        line = line.replace(char, "\\" + char)
    return line


settings = current_settings()
st.title("Launch")
st.caption("Validate a storyboard, see what it will render, and start it as a durable batch.")
show_notices()

samples = sample_projects()
source = st.segmented_control(
    "Project",
    ["sample", "upload"],
    default="sample",
    required=True,
    key="launch-source",
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
    st.error(_literal(str(err)), icon=":material/error:")
    project = None

if project is not None:
    # Priced with the providers this dashboard's settings hold keys for: the worker's should match.
    guess = estimate(project, call_plan(settings))
    st.subheader(project.name)
    shots, takes, cost = st.columns(3)
    shots.metric("Shots", guess.shots)
    takes.metric("Takes", guess.takes)
    cost.metric(
        "Cost",
        money(guess.cost_usd) if guess.cost_usd else "free",
        help=ESTIMATE_HELP,
        delta=f"budget {money(guess.budget_usd)}" if guess.budget_usd is not None else None,
        delta_color="red" if guess.over_budget else "gray",
        delta_arrow="off",
    )
    st.caption(
        f"{guess.cost[0].upper()}{guess.cost[1:]}. "
        + (
            "Every shot waits for approval before it is published."
            if guess.approval_required
            else "The automated review picks each shot's best take; nothing waits for approval."
        )
    )
    for line in render_notices(project, settings):  # what `studio run` says on the command line
        st.info(f"{line[0].upper()}{line[1:]}.", icon=":material/key_off:")
    if guess.over_budget:
        st.warning(
            f"The estimate ({money(guess.cost_usd)}) is above this project's budget of "
            f"{money(guess.budget_usd or 0.0)}: "
            "the batch will pause when it reaches its budget, until you raise the budget or stop spending "
            "on its page.",
            icon=":material/savings:",
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
            st.error(_literal(str(err)), icon=":material/error:")
        except (ConnectionFailed, ActionFailed, AssetStoreError) as err:
            st.error(str(err), icon=":material/cloud_off:")
        else:
            notify("success", f"Started batch {batch_id}.")
            st.session_state["launched-batch"] = batch_id
            st.rerun()

launched = st.session_state.get("launched-batch")
if launched:
    st.page_link(
        routes.BATCH,
        label=f"Watch batch {launched}",
        icon=":material/arrow_forward:",
        query_params={routes.BATCH_PARAM: launched},
    )
