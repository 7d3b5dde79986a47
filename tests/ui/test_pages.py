"""Every dashboard page through Streamlit's AppTest, against a real catalog and real gates."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from pydantic import SecretStr

from studio.catalog.models import Guest
from studio.catalog.store import Catalog
from studio.images.metadata import read_recipe_file
from studio.review.sharing import LinkInvalid, share_url
from studio.settings import Settings
from studio.views.gates import pending_gates
from tests.support.environment import OWNER
from tests.support.projects import SAMPLES
from tests.ui.app_harness import gates_open, new_app, run, shot_stage, texts, wait_for
from tests.ui.markdown_tables import field_values, tables
from tests.ui.pixels import same_pixels

TINY = """
[project]
name = "Tiny Upload"
seed = 7

[defaults]
size = "256x256"
variants = 1
upscale = 1

[[shots]]
id = "only"
prompt = "a red kite over a green hill"
"""


async def test_empty_studio_shows_empty_states(app_env: Settings) -> None:
    at = await run(new_app())
    assert "Batches" in texts(at) and "No batches yet — launch one." in texts(at)
    for page in ("app_pages/batch.py", "app_pages/shot.py"):
        at = await run(new_app(page))
        assert "No batches yet — launch one." in texts(at)
    at = await run(new_app("app_pages/approvals.py"))
    assert "Nothing is waiting for approval." in texts(at)


async def test_launch_page_validates_estimates_and_starts(app_env: Settings, worker: None, catalog: Catalog) -> None:
    at = await run(new_app("app_pages/launch.py"))
    at.selectbox(key="launch-sample").set_value("thumbnail-pack")
    await run(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Shots"] == "2" and metrics["Takes"] == "16" and metrics["Cost"] == "free"
    assert "Free with the local provider" in texts(at) and "waits for approval" in texts(at)

    at.segmented_control(key="launch-source").set_value("upload")
    await run(at)
    at.file_uploader(key="launch-upload").set_value(("bad.toml", b"[project]\nname = 3\n", "application/toml"))
    await run(at)
    assert at.error and at.error[0].value.startswith("bad.toml: ")  # ProjectError's one line
    assert not [b for b in at.button if b.key == "launch-start"]  # nothing to start on bad input

    at.file_uploader(key="launch-upload").set_value(("project.toml", TINY.encode(), "application/toml"))
    await run(at)
    assert {m.label: m.value for m in at.metric}["Takes"] == "1"
    at.button(key="launch-start").click()
    await run(at)
    assert "Started batch tiny-upload-" in texts(at)
    (batch,) = catalog.batches()
    assert batch.project_name == "Tiny Upload"
    shot = f"{batch.id}/only"
    await wait_for(lambda: shot_stage(catalog, shot) == "published", "the launched batch to publish")


async def test_pages_of_a_batch_at_its_gates(app_env: Settings, worker: None, launch, catalog: Catalog, assets) -> None:
    """Every page of a batch whose shots wait at their gates.

    Long because it walks every page of one batch at its gates, as an owner does.
    """
    batch_id = await launch(SAMPLES / "thumbnail-pack")
    await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")

    # Batches: the batch, its state and per-stage progress.
    at = await run(new_app())
    shown = texts(at)
    assert "Trail & Ember: thumbnails ep. 42" in str([p.label for p in at.page_link])
    assert ":orange-badge[waiting]" in shown and "2 waiting for approval" in shown
    bars = {p.value for p in at.progress}
    assert bars and all(0 <= v <= 100 for v in bars)
    assert "Cost **$0.00**" in shown  # as `studio status` says it

    # Batch: a grid with a thumbnail per take, filters, and a share link.
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    captions = [c for image in at.image for c in image.captions]
    assert len(captions) == 16 and all(" · local · " in c for c in captions)
    assert [c.split(" ")[0] for c in captions] == [f"#{n}" for n in range(1, 9)] * 2
    assert "skillet-campfire" in texts(at) and "waiting for approval" in texts(at)
    at.segmented_control(key="shot-filter").set_value("failed")
    await run(at)
    assert "No shots match this filter." in texts(at)
    at.button(key="share-button").click()
    await run(at)
    link = [c.value for c in at.code if "?share=" in c.value]
    assert link and link[0].startswith(f"{app_env.dashboard_url}/?share=")

    # Shot: takes with recipes, calls, review, history, and the Temporal link.
    shot_key = f"{batch_id}/skillet-campfire"
    at = await run(new_app("app_pages/shot.py", shot=shot_key))
    assert [t.label for t in at.tabs] == [f"Take {n}" for n in range(1, 9)]
    # A recipe and a call timeline per take, as Markdown: no table script for a fresh browser to fetch.
    assert not at.table and not at.dataframe
    recipes = [r for r in (field_values(m.value) for m in at.markdown) if r]
    calls = tables(at)
    assert len(recipes) == 8 and len(calls) == 8
    assert recipes[0]["Provider"] == "local" and recipes[0]["Size"] == "1344×768"
    assert calls[0]["stage"] == ["render"] and calls[0]["status"] == ["succeeded"]
    assert "No decisions yet." in texts(at)
    (temporal,) = at.link_button
    assert temporal.proto.url.endswith(f"/namespaces/default/workflows/{quote(shot_key, safe='')}")

    # Approvals: approve take 3 of the first shot in place; the catalog publishes exactly that take.
    at = await run(new_app("app_pages/approvals.py"))
    assert "skillet-campfire" in texts(at) and "host-reaction" in texts(at)
    at.pills(key=f"take-{shot_key}").set_value(3)
    await run(at)
    at.button(key=f"approve-{shot_key}").click()
    await run(at)
    assert f"Approved take 3 of {shot_key}." in texts(at)
    await wait_for(lambda: shot_stage(catalog, shot_key) == "published", "the approved shot to publish")
    (publication,) = [p for p in catalog.publications(batch_id) if p.shot_key == shot_key]
    assert publication.take_id == f"{shot_key}/3"
    (approval,) = catalog.approvals(shot_key=shot_key)
    assert (approval.decision, approval.who, approval.take_id) == ("approve", OWNER, f"{shot_key}/3")
    assert read_recipe_file(Path(publication.path))["take_id"] == f"{shot_key}/3"
    assert same_pixels(Path(publication.path).read_bytes(), assets.get(catalog.take(f"{shot_key}/3").final_key))

    other = f"{batch_id}/host-reaction"
    assert not [b for b in at.button if b.key == f"approve-{shot_key}"]  # answered: gone from the inbox
    # Request changes works on the first click (no waiting for the note box to lose focus); an
    # empty note is refused with a word, and nothing is decided.
    at.button(key=f"changes-{other}").click()
    await run(at)
    assert f"{other}: write what should change in the note first." in texts(at)
    assert catalog.approvals(shot_key=other) == []
    # Request changes: the note goes to the prompt, the shot renders a new round and comes back.
    at.text_input(key=f"note-{other}").set_value("warmer light")
    await run(at)
    at.button(key=f"changes-{other}").click()
    await run(at)
    assert f"Changes requested for {other}" in texts(at)

    def back() -> bool:
        return [g.shot_key for g in pending_gates(catalog)] == [other]

    await wait_for(back, "the changed shot to return to its gate")
    takes = catalog.takes(other)
    assert len(takes) == 16 and all(t.prompt.endswith("warmer light") for t in takes[8:])
    at = await run(new_app("app_pages/approvals.py"))
    assert len(at.image) == 16  # both rounds are on offer
    assert "round 2" in texts(at) and "asked for: warmer light" in texts(at)
    # Reject with a note.
    at.text_input(key=f"note-{other}").set_value("not on brand")
    await run(at)
    at.button(key=f"reject-{other}").click()
    await run(at)
    assert "Nothing is waiting for approval." in texts(at)
    await wait_for(lambda: shot_stage(catalog, other) == "rejected", "the rejected shot to close")
    rejected = catalog.approvals(shot_key=other)[-1]
    assert (rejected.decision, rejected.note, rejected.who) == ("reject", "not on brand", OWNER)

    # The shot page now shows the decision and the publication; the batch filter finds the rejected shot.
    at = await run(new_app("app_pages/shot.py", shot=shot_key))
    assert tables(at)[-1]["who"] == [OWNER]
    assert any("Published take 3" in s.value for s in at.success)
    at = await run(new_app("app_pages/batch.py", batch=batch_id))
    at.segmented_control(key="shot-filter").set_value("rejected")
    await run(at)
    assert [m.value for m in at.markdown if "host-reaction" in m.value]
    assert not [m.value for m in at.markdown if "skillet-campfire" in m.value]


async def test_client_page_approves_in_place(app_env: Settings, worker: None, launch, catalog: Catalog) -> None:
    batch_id = await launch(SAMPLES / "thumbnail-pack")
    await wait_for(gates_open(catalog, batch_id, 2), "both gates to open")
    token = share_url(app_env, batch_id).split("share=", 1)[1]
    # A guest who already said who they are (tests/ui/test_client_guest.py covers the asking).
    guest = catalog.add_guest(Guest(id="g-ann", batch_id=batch_id, name="Ann Lee", email="ann@example.com"))

    at = await run(new_app(share=token, guest=guest.id))
    stale = await run(new_app(share=token, guest=guest.id))  # a second tab, opened before the first one answers
    assert not at.sidebar.children  # no navigation, no owner data
    expiry = next(c.value for c in at.caption if c.value.startswith("This link works until "))
    assert expiry.endswith(" UTC (2 days left).")  # studio share's 72 h, made a moment ago
    approve = [b for b in at.button if b.label == "Approve this one"]
    assert len(approve) == 16 and len(at.image) == 16
    at.button(key="approve-host-reaction-5").click()
    await run(at)
    assert "take 5 of host-reaction is approved" in texts(at)
    await wait_for(lambda: shot_stage(catalog, f"{batch_id}/host-reaction") == "published", "publish")
    assert catalog.shot(f"{batch_id}/host-reaction").final_take_id == f"{batch_id}/host-reaction/5"
    assert catalog.approvals(shot_key=f"{batch_id}/host-reaction")[0].who == "Ann Lee"
    assert len([b for b in at.button if b.label == "Approve this one"]) == 8

    # The stale tab answers the same gate again: a plain refusal, nothing changes.
    stale.button(key="approve-host-reaction-2").click()
    await run(stale)
    assert "host-reaction was already answered or is no longer waiting." in [w.value for w in stale.warning]
    assert catalog.shot(f"{batch_id}/host-reaction").final_take_id == f"{batch_id}/host-reaction/5"

    # Request changes from the client page: a new round comes back to the same link, newest first.
    campfire = f"{batch_id}/skillet-campfire"
    at.text_area(key="note-skillet-campfire").set_value("more sparks")
    await run(at)
    at.button(key="changes-skillet-campfire").click()
    await run(at)
    assert "we will rework skillet-campfire" in texts(at)
    asked = catalog.approvals(shot_key=campfire)[-1]
    assert (asked.decision, asked.who, asked.note) == ("changes", "Ann Lee", "more sparks")
    await wait_for(lambda: [g.shot_key for g in pending_gates(catalog, batch_id=batch_id)] == [campfire], "round 2")
    await run(at)
    assert "**Round 2 — you asked: more sparks**" in texts(at)  # newest round first; round 1 folded
    assert [i.captions[0] for i in at.image][:2] == ["Take 9", "Take 10"]

    at = await run(new_app(share=token + "x"))
    assert LinkInvalid.MESSAGE in texts(at) and not at.button


async def test_owner_pages_need_the_token_beyond_localhost(app_env: Settings, monkeypatch) -> None:
    monkeypatch.setenv("STUDIO_DASHBOARD_HOST", "0.0.0.0")
    monkeypatch.setenv("STUDIO_DASHBOARD_TOKEN", "open-sesame")
    at = await run(new_app())
    assert "Batches" not in texts(at) and at.text_input(key="owner-token")
    at.text_input(key="owner-token").set_value("wrong")
    at.button[0].click()
    await run(at)
    assert "That token is not right." in texts(at)
    at.text_input(key="owner-token").set_value("open-sesame")
    at.button[0].click()
    await run(at)
    assert "No batches yet — launch one." in texts(at)


def test_dashboard_refuses_to_listen_beyond_localhost_without_a_token(settings: Settings, tmp_path: Path) -> None:
    import pytest

    from studio.cli.dashboard import dashboard_command, start_dashboard
    from studio.review.access import DashboardUnsafe, check_listen_safe

    exposed = settings.model_copy(update={"dashboard_host": "0.0.0.0"})
    with pytest.raises(DashboardUnsafe):
        start_dashboard(exposed, tmp_path / "dashboard.log")
    check_listen_safe(exposed.model_copy(update={"dashboard_token": SecretStr("t")}))
    check_listen_safe(settings)
    command = dashboard_command(settings)
    assert command[command.index("--server.address") + 1] == "127.0.0.1"
