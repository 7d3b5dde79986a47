"""`studio share`: a link recorded as it is printed, `--list` showing it, `--revoke` stopping it, and
every mistake as one line."""

from __future__ import annotations

import json

import pytest

from studio.catalog.store import Catalog
from studio.cli import main
from studio.review.links import open_client_link
from studio.review.sharing import LinkInvalid
from studio.settings import Settings
from tests.studio.test_share_links import add_batch, token_of


def share(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["share", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_share_list_revoke(app_env: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str]) -> None:
    batch_id = add_batch(catalog)
    code, out, _ = share(capsys, batch_id, "--label", "for Ana", "--hours", "2")
    assert code == 0
    url = out.strip()
    assert url.startswith(f"{app_env.dashboard_url}/?share=") and "\n" not in url
    assert open_client_link(app_env, catalog, token_of(url)).batch_id == batch_id

    code, out, _ = share(capsys, "--list", batch_id, "--json")
    (listed,) = json.loads(out)
    assert code == 0
    assert (listed["batch"], listed["label"], listed["state"]) == (batch_id, "for Ana", "active")
    assert listed["last_used_at"] is not None  # opened just above
    link_id = listed["id"]

    code, out, _ = share(capsys, "--list")
    assert code == 0 and link_id in out and "active" in out and "for Ana" in out

    code, out, _ = share(capsys, "--revoke", link_id)
    assert code == 0
    assert out.strip() == f"revoked link {link_id} for batch {batch_id}: it no longer opens anything"
    with pytest.raises(LinkInvalid) as err:
        open_client_link(app_env, catalog, token_of(url))
    assert err.value.reason == "revoked"
    code, out, _ = share(capsys, "--list", "--json")
    assert [(x["id"], x["state"]) for x in json.loads(out)] == [(link_id, "revoked")]


def test_list_with_no_links_says_how_to_make_one(
    app_env: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    batch_id = add_batch(catalog)
    code, out, _ = share(capsys, "--list", batch_id)
    assert code == 0 and out.strip() == f"no links handed out yet for {batch_id}: `studio share BATCH` makes one"
    assert json.loads(share(capsys, "--list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--revoke", "nope"], "studio: no link 'nope' (`studio share --list` shows the links handed out)"),
        ([], "studio: studio share needs a batch id (or --list, or --revoke LINK_ID)"),
        (["--list", "no-such-batch"], "studio: no batch 'no-such-batch'"),
        (["no-such-batch"], "studio: no batch 'no-such-batch'"),
        (["alpha-000001", "--hours", "0"], "studio: --hours must be between 0 and 8760 (got 0)"),
        (["alpha-000001", "--revoke", "x"], "studio: studio share --revoke takes a link id only, not a batch"),
    ],
)
def test_mistakes_are_one_line(
    app_env: Settings, catalog: Catalog, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    add_batch(catalog)
    code, out, err = share(capsys, *argv)
    assert (code, out, err.strip()) == (2, "", message)
    assert catalog.share_links() == []  # a mistake hands nothing out
