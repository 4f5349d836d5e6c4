"""The blocking helpers' results outlive the call: saved, and their URLs fetched, after the helper returned.

Each runs in a real script (a subprocess), as a user's would: no event loop of pytest's is around, and what keeps
the local Conduit up must be the helper's own doing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conduit_widget.client import TaskResult
from conduit_widget.client.errors import ConduitError, ConfigurationError

SCRIPT = """
import sys, httpx, conduit_widget
r = conduit_widget.{helper}("a fox", {options})
assert r.ok, r
saved = r.save(sys.argv[1])
fetched = httpx.get(r.urls[0], timeout=10)
print(fetched.status_code, fetched.headers.get("content-type"), len(fetched.content), *saved)
assert fetched.content == saved[0].read_bytes()
"""


def _script(tmp_path: Path, helper: str, options: str, out: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")} | {"CONDUIT_LOCAL_SPEED": "50"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT.format(helper=helper, options=options)), str(tmp_path / out)],
        capture_output=True,
        text=True,
        timeout=90,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_an_image_from_generate_image_is_saved_and_its_url_answers_after_the_call(tmp_path: Path) -> None:
    status, kind, size, path = _script(tmp_path, "generate_image", "size='256x256'", "fox.png")
    assert (status, kind) == ("200", "image/png")
    assert Path(path) == tmp_path / "fox.png"
    assert Path(path).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert int(size) == Path(path).stat().st_size


def test_a_video_from_generate_video_is_saved_and_its_url_answers_after_the_call(tmp_path: Path) -> None:
    status, kind, size, path = _script(tmp_path, "generate_video", "duration=1", "waves.mp4")
    assert (status, kind) == ("200", "video/mp4")
    assert Path(path).read_bytes()[4:8] == b"ftyp"  # an MP4's first box
    assert int(size) == Path(path).stat().st_size


def test_two_calls_in_one_script_share_one_local_conduit_that_stays_up(tmp_path: Path) -> None:
    script = textwrap.dedent("""
        import httpx, conduit_widget
        first = conduit_widget.generate_image("a fox", size="256x256")
        second = conduit_widget.generate_image("a hen", size="256x256")
        print(first.image_url.split("/")[2] == second.image_url.split("/")[2])
        print(httpx.get(first.image_url, timeout=10).status_code)
    """)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")} | {"CONDUIT_LOCAL_SPEED": "50"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=90, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "200"]
    assert done.stderr == ""  # the exit stops the server and the loop without a warning or a traceback


def _completed(media: tuple[bytes, ...] = ()) -> TaskResult:
    return TaskResult("task_0123456789abcdef", "image", "completed", ("http://127.0.0.1:1/a.png",), media=media)


def test_a_result_without_its_media_says_how_to_get_them_instead_of_writing_nothing(tmp_path: Path) -> None:
    with pytest.raises(ConduitError, match=r"does not carry its media.*asave") as caught:
        _completed().save(tmp_path / "x.png")
    assert "\n" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_folder_names_the_file_after_the_task(tmp_path: Path) -> None:
    [path] = _completed((b"\x89PNG-bytes",)).save(f"{tmp_path}/out/")
    assert path.parent == tmp_path / "out"
    assert path.name.endswith("01234567.png")
    assert path.read_bytes() == b"\x89PNG-bytes"


def test_a_failed_result_is_not_saved(tmp_path: Path) -> None:
    failed = TaskResult("task_1", "image", "failed", error="no")
    with pytest.raises(ConfigurationError, match="no finished result"):
        failed.save(tmp_path / "x.png")


async def test_asave_downloads_through_the_client_what_the_result_does_not_carry(tmp_path: Path) -> None:
    from conduit_widget.client import ConduitClient

    async with ConduitClient() as client:
        task = await client.generate_image("a fox", size="256x256")
        result = await task.wait(60)
        [path] = await result.asave(tmp_path / "fox.png", client)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_media_stay_out_of_repr_and_equality() -> None:
    assert "media" not in repr(_completed((b"x" * 100,)))
    assert _completed((b"x",)) == _completed()
