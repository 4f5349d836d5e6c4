"""`conduit-widget generate`, run as a user runs it: under a real terminal (a pty), and piped."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import av
import httpx
import pytest
from PIL import Image

from conduit_widget.saving import destinations as _destinations
from tests.conftest import distinct_steps, route

REPO = Path(__file__).resolve().parents[1]
COMMAND = [sys.executable, "-m", "conduit_widget.cli", "generate"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# A carriage return that starts a line over (a pty turns each "\n" into "\r\n"), cursor up/down/..., erase line.
CURSOR_MOVES = re.compile(r"\r(?!\n)|\x1b\[\d*[ABCDGHK]")


@pytest.fixture(scope="session")
def conduit(each_conduit):
    """`generate` runs against every profile of the local Conduit."""
    return each_conduit


def _env(conduit, **extra: str) -> dict[str, str]:
    # Nothing from the caller's environment may change what rich thinks the terminal is.
    skip = ("CONDUIT_", "FORCE_COLOR", "NO_COLOR", "TTY_", "COLUMNS", "LINES", "TERM")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    return {**env, "CONDUIT_BASE_URL": conduit.base_url, "CONDUIT_API_KEY": conduit.api_key, **extra}


class PtyRun:
    """The CLI on the slave side of a pseudo-terminal; everything it writes is read from the master side."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = os.openpty()
        self._master = master
        self.process = subprocess.Popen(
            [*COMMAND, *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**env, "TERM": "xterm-256color", "COLUMNS": "100"},
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.raw = b""

    @property
    def output(self) -> str:
        return self.raw.decode(errors="replace")

    def read_until(self, pattern: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not re.search(pattern, ANSI.sub("", self.output)):
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"no {pattern!r} in {self.output!r}")

    def finish(self, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while self._read(deadline):
            pass
        os.close(self._master)
        try:
            return self.process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"still running after {timeout} s: {self.output!r}") from None

    def _read(self, deadline: float) -> bool:
        """Read what is there; False once the terminal is closed (the CLI exited) or the deadline passed."""
        ready, _, _ = select.select([self._master], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return False
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: every process holding the slave side has exited
            return False
        self.raw += chunk
        return bool(chunk)


def _pty(conduit, tmp_path: Path, *args: str) -> tuple[int, str]:
    run = PtyRun(list(args), _env(conduit), tmp_path)
    return run.finish(), run.output


def _piped(conduit, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], env=_env(conduit, **env), cwd=tmp_path, capture_output=True, text=True, timeout=30
    )


def test_a_terminal_gets_a_live_bar_and_the_image_is_saved(conduit, tmp_path):
    code, output = _pty(conduit, tmp_path, "a lighthouse", "--model", "test-slow", "--size", "96x64", "--out", "x.png")
    assert code == 0, output
    assert CURSOR_MOVES.search(output), "no redraws: the bar was not live"
    plain = ANSI.sub("", output)
    shown = [int(p) for p in re.findall(r"(\d{1,3})%", plain)]
    distinct = list(dict.fromkeys(shown))
    assert len(distinct) >= distinct_steps(conduit), plain
    assert distinct == sorted(distinct), f"progress went backwards: {distinct}"
    assert distinct[-1] == 100
    assert "Saved x.png" in plain
    with Image.open(tmp_path / "x.png") as image:
        assert image.format == "PNG"
        assert image.size == (96, 64)
    assert conduit.api_key not in output


def test_a_video_is_saved_as_an_mp4_that_decodes(conduit, tmp_path):
    code, output = _pty(conduit, tmp_path, "waves", "--video", "--size", "128x96", "--duration", "1", "--out", "x.mp4")
    assert code == 0, output
    data = (tmp_path / "x.mp4").read_bytes()
    assert data[4:8] == b"ftyp"
    with av.open(str(tmp_path / "x.mp4")) as container:
        frame = next(container.decode(video=0))
        assert (frame.width, frame.height) == (128, 96)


def test_several_images_are_numbered(conduit, tmp_path):
    result = _piped(conduit, tmp_path, "two cats", "--n", "2", "--size", "64x64", "--out", "cats.png")
    assert result.returncode == 0, result.stderr
    for name in ("cats-1.png", "cats-2.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size == (64, 64)
        assert f"Saved {name}" in result.stdout
    assert not (tmp_path / "cats.png").exists()


def test_an_out_ending_in_a_slash_is_a_new_folder_not_a_file(conduit, tmp_path):
    result = _piped(conduit, tmp_path, "a cat", "--size", "64x64", "--out", "new/dir/")
    assert result.returncode == 0, result.stderr
    saved = list((tmp_path / "new" / "dir").iterdir())
    assert len(saved) == 1 and saved[0].name.startswith("a-cat-") and saved[0].suffix == ".png", saved


def test_file_names_come_from_the_prompt_and_the_task_or_the_out_option(tmp_path):
    task = "0123456789abcdef"
    assert _destinations(None, "A red Fox, in [snow]!", task, 1, ".png") == [Path("a-red-fox-in-snow-01234567.png")]
    assert _destinations(tmp_path, "?!", task, 2, ".png") == [
        tmp_path / "conduit-01234567-1.png",
        tmp_path / "conduit-01234567-2.png",
    ]
    assert _destinations(Path("out/clip.mp4"), "x", task, 1, ".mp4") == [Path("out/clip.mp4")]


def test_a_failed_task_says_why_and_exits_1(conduit, tmp_path):
    code, output = _pty(conduit, tmp_path, "doomed", "--model", "test-fail")
    assert code == 1, output
    plain = ANSI.sub("", output)
    assert re.search(r"image task \S+ failed: The provider failed part-way through", plain), plain
    assert "Traceback" not in plain
    assert list(tmp_path.iterdir()) == []


def test_a_wrong_key_is_one_line_naming_the_401(conduit, tmp_path):
    key = "condt_wrongwrongwrong"
    result = _piped(conduit, tmp_path, "a cat", CONDUIT_API_KEY=key)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "401" in lines[0]
    assert "Traceback" not in result.stderr
    assert key not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["a cat", "--size", "big"], "expected WIDTHxHEIGHT"),
        (["a cat", "--n", "0"], "must be greater than 0"),
        (["a cat", "--video", "--n", "2"], "--n applies to images only"),
        (["a cat", "--duration", "2"], "--duration applies to videos only"),
        (["   "], "prompt must be a non-empty string"),
    ],
)
def test_bad_options_are_named_without_a_traceback(conduit, tmp_path, args, message):
    result = _piped(conduit, tmp_path, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_piped_output_is_plain_lines_and_the_file_is_saved(conduit, tmp_path):
    result = _piped(conduit, tmp_path, "A quiet harbour at dawn", "--model", "test-slow", "--size", "64x64")
    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    assert "\x1b[" not in output and "\r" not in output
    lines = result.stderr.splitlines()
    assert all(re.fullmatch(r"image +\d{1,3}% .+", line) for line in lines), lines
    assert lines[-1].startswith("image 100%")
    assert len(lines) <= 10, "plain progress lines are throttled"
    (saved,) = tmp_path.iterdir()
    assert re.fullmatch(r"a-quiet-harbour-at-dawn-[0-9a-f]{8}\.png", saved.name)
    assert result.stdout == f"Saved {saved.name}\n"
    with Image.open(saved) as image:
        assert image.format == "PNG"


def test_ctrl_c_cancels_the_task_on_the_server(conduit, tmp_path):
    run = PtyRun(["stuck", "--model", "test-hang", "--size", "64x64"], _env(conduit), tmp_path)
    run.read_until(r"[1-9]\d*%|processing", timeout=20)  # it is running
    os.kill(run.process.pid, signal.SIGINT)
    assert run.finish() == 130, run.output
    match = re.search(r"Interrupted: cancelled task (\S+) on the server", ANSI.sub("", run.output))
    assert match, run.output
    status = httpx.get(
        conduit.base_url + route(conduit, "image_status", match[1]),
        headers={"Authorization": f"Bearer {conduit.api_key}"},
    )
    assert status.json()["status"] == "cancelled"


def test_a_timeout_cancels_the_task_and_exits_1(conduit, tmp_path):
    result = _piped(conduit, tmp_path, "stuck", "--model", "test-hang", "--size", "64x64", "--timeout", "0.5")
    assert result.returncode == 1, result.stderr
    assert re.search(r"Not done after 0\.5 s: cancelled task \S+\.", result.stderr), result.stderr
    assert list(tmp_path.iterdir()) == []
