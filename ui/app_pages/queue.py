"""Queue: every batch that has not ended, in the order its renders dispatch, and the workers polling."""

from __future__ import annotations

import streamlit as st

from pipelines.client.pollers import describe_pollers, worker_processes
from studio.errors import StudioError
from studio.views.eta import capacity_of
from studio.views.queue import QueueEntry, render_queue
from ui import routes
from ui.badges import ago, clock
from ui.queue_controls import batch_controls, client_weight_panel, show_answer
from ui.resources import current_settings, open_catalog

REFRESH_SECONDS = 5
PRIORITY_BADGES = {"rush": ":red-badge[rush]", "normal": ":blue-badge[normal]", "low": ":gray-badge[low]"}
PLACE_BADGES = {
    "running": ":green-badge[running]",
    "paused": ":orange-badge[paused]",
    "waiting": ":gray-badge[waiting]",
}

st.title("Queue")
st.caption(
    "Batches that have not ended, in the order their renders dispatch: rush before normal before low, "
    "then first launched first. Clients share each priority by their weights."
)
settings = current_settings()
catalog = open_catalog(settings)


def _entry(n: int, e: QueueEntry) -> None:
    with st.container(border=True, key=f"queue-{e.batch_id}"):
        head, eta = st.columns([3, 2], vertical_alignment="center")
        with head:
            st.page_link(
                routes.BATCH,
                label=f"**{n}. {e.project}**",
                icon=":material/grid_view:",
                query_params={routes.BATCH_PARAM: e.batch_id},
            )
            badges = [PRIORITY_BADGES.get(e.priority, e.priority), PLACE_BADGES.get(e.place, e.place)]
            if e.state not in (e.place, "running"):
                badges.append(f":orange-badge[{e.state}]")
            st.markdown(" ".join([*badges, f"`{e.batch_id}`", f"client **{e.client}**"]))
        with eta:
            st.caption(f"{e.eta_label()}  \n{e.running} call(s) running · launched {clock(e.created_at)}")
        if e.takes:
            st.progress(min(1.0, e.rendered / e.takes), text=f"rendered {e.rendered}/{e.takes}")
        if e.eta is not None and e.eta.basis:
            st.caption(e.eta.basis)
        batch_controls(settings, catalog.batch(e.batch_id), where="queue")


def _workers() -> None:
    st.subheader("Workers")
    try:
        queues = describe_pollers(settings)
    except StudioError as err:
        st.warning(f"Cannot list the workers: {err}", icon=":material/cloud_off:")
        return
    workers = worker_processes(queues)
    if not workers:
        st.info("No worker is polling: start one with `studio worker` (or `studio up`).", icon=":material/info:")
        return
    rows = [
        {
            "worker": w.identity,
            "polls": ", ".join(w.queues),
            "last seen": ago(w.last_seen),
        }
        for w in workers
    ]
    st.dataframe(rows, hide_index=True, key="queue-workers")
    backlog = sum(q.backlog or 0 for q in queues)
    st.caption(f"{backlog} task(s) waiting on the studio's queues for a worker slot.")


@st.fragment(run_every=REFRESH_SECONDS)
def _queue() -> None:
    capacity = capacity_of(settings.provider_concurrency, settings.provider_max_in_flight)
    entries = render_queue(catalog, capacity)
    if not entries:
        st.info("The queue is empty: every batch has ended.", icon=":material/done_all:")
    show_answer()
    for n, e in enumerate(entries, 1):
        _entry(n, e)
    client_weight_panel(settings, catalog)
    _workers()


_queue()
