"""The Launch page refuses a hostile upload the way `studio run --check` does: one line, nothing started."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from studio.settings import Settings
from tests.ui.app_harness import new_app, run

ONE_SHOT = '[[shots]]\nid = "s01"\nprompt = "a cat"\n'


async def upload(name: str, text: str) -> str:
    """Upload ``text`` on the Launch page; returns the one error it shows, checking nothing can start."""
    at = await run(new_app("app_pages/launch.py"))
    at.segmented_control(key="launch-source").set_value("upload")
    await run(at)
    at.file_uploader(key="launch-upload").set_value((name, text.encode(), "application/toml"))
    await run(at)
    assert len(at.error) == 1 and not [b for b in at.button if b.key == "launch-start"]
    return str(at.error[0].value)


async def test_an_upload_naming_a_server_image_is_refused(app_env: Settings, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    Image.new("RGB", (8, 8)).save(secret)
    error = await upload("p.toml", '[project]\nname = "P"\n' + ONE_SHOT + f'reference = "{secret}"\n')
    assert error.startswith("p.toml: shot 's01': field 'reference': must be inside the uploaded project's folder")
    assert not (app_env.home / "uploads").exists()  # nothing kept for a refused upload


async def test_wedging_values_are_refused_in_one_readable_line(app_env: Settings) -> None:
    error = await upload("p.toml", '[project]\nname = "P"\n[approval]\ndeadline = "999999999999999999d"\n' + ONE_SHOT)
    assert error == "p.toml: field 'approval.deadline': must be at most 365d (got '999999999999999999d')"
    # The file name is the uploader's: escape sequences are escaped and Markdown is shown literally.
    error = await upload("\x1b[2J*$x$*.toml", '[project]\nname = "P"\nseed = 18446744073709551616\n' + ONE_SHOT)
    assert error == (
        r"\\x1b\[2J\*\$x\$\*.toml: field 'project.seed': must be between 0 and 4294967295 "
        "(got 18446744073709551616)"
    )
