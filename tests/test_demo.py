"""`conduit-widget demo` from the wheel a user installs, not from this checkout.

The wheel is built from this tree and installed, with its extras, into a fresh venv that sees nothing of this one
(about 90 s from the package index); the demo runs from there, in a folder of its own, with its own data folder.
What it serves, and what `ps` shows of the processes it starts, are read from the real processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conduit_widget.cli import _parser, _server_option_names
from conduit_widget.demo import serve_argv

REPO = Path(__file__).resolve().parents[1]
KEY = "condt_demo0123456789abcdefghijkl"


def test_the_demo_passes_every_option_of_serve_on():
    values = {
        "--host": "127.0.0.2",
        "--speed": "7.5",
        "--profile": "conduit-gateway",
        "--data-dir": "/tmp/tasks",
        "--rate-limit": "3",
    }
    assert sorted(values) == sorted(  # every option of serve but the two the demo sets itself
        f"--{name.replace('_', '-')}" for name in _server_option_names() if name not in ("api_key", "port")
    )
    demo = _parser().parse_args(["demo", *(word for pair in values.items() for word in pair)])
    argv = serve_argv(demo, _server_option_names())
    serve = _parser().parse_args(["serve", *argv])
    for name in _server_option_names():
        if name not in ("api_key", "port"):
            assert getattr(serve, name) == getattr(demo, name), name


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin folder of a fresh venv with this tree's wheel installed as a user installs it: `[local,demo]`."""
    dist, venv = tmp_path_factory.mktemp("dist"), tmp_path_factory.mktemp("venv")
    build = [sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(dist)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("conduit_widget-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"{wheel}[local,demo]"]
    done = subprocess.run(install, capture_output=True, text=True, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin"


def _children(pid: int) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:  # it ended meanwhile
                continue
            if re.search(rf"^PPid:\s+{pid}$", status, re.MULTILINE):
                yield int(entry.name)


def _read_line(process: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    assert process.stdout is not None
    deadline, seen = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if match := re.search(pattern, line):
            return match
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


def _start_demo(installed: Path, tmp_path: Path, *options: str) -> subprocess.Popen[str]:
    """The installed `conduit-widget demo`, as a user with a home and data folder in `tmp_path` runs it."""
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir(exist_ok=True)
    skip = ("CONDUIT_", "JUPYTER", "PYTHONPATH", "VIRTUAL_ENV")  # nothing of this checkout or its venv
    environment = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env = {
        **environment,
        "PATH": f"{installed}{os.pathsep}{environment.get('PATH', '')}",
        "HOME": str(home),
        "XDG_DATA_HOME": str(data),
        "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        "JUPYTER_DATA_DIR": str(home / "jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(home / "jupyter-runtime"),
        "CONDUIT_API_KEY": KEY,
    }
    command = [str(installed / "conduit-widget"), "demo", "--no-browser", "--lab-port", "0", *options]
    return subprocess.Popen(command, cwd=home, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.timeout(600)  # the fresh venv's install, then JupyterLab's start
def test_the_installed_demo_serves_a_copy_of_the_quickstart_with_its_options_and_no_secret_in_ps(installed, tmp_path):
    data = tmp_path / "data"
    demo = _start_demo(installed, tmp_path, "--speed", "50", "--rate-limit", "1", "--profile", "conduit-gateway")
    try:
        conduit_url = _read_line(demo, r"Local Conduit: (http://\S+)", 120)[1]
        lab = _read_line(demo, r"Open this URL: (http://127\.0\.0\.1:\d+)/lab/tree/(\S+)\?token=(\S+)", 10)
        lab_url, path, token = lab[1], lab[2], lab[3]

        # The quickstart the wheel carries, copied to the user's data folder, is what JupyterLab serves.
        assert path == "quickstart.ipynb"
        copy = data / "conduit-widget" / "quickstart.ipynb"
        assert copy.read_bytes() == (REPO / "notebooks" / "quickstart.ipynb").read_bytes()
        contents = httpx.get(f"{lab_url}/api/contents/{path}", headers={"Authorization": f"token {token}"})
        assert contents.status_code == 200 and contents.json()["type"] == "notebook"
        assert httpx.get(f"{lab_url}/api/contents/{path}").status_code == 403  # the token is needed

        # The options reached the server: the Gateway's routes, and a second create in a minute is refused.
        creates = [
            httpx.post(
                f"{conduit_url}/v1/conduit/images/generations/async",
                json={"prompt": "a fox", "model": "local-image", "size": "64x64"},
                headers={"Authorization": f"Bearer {KEY}"},
            ).status_code
            for _ in range(2)
        ]
        assert creates == [202, 429]

        # Every process the demo started runs the installed package, not this checkout.
        started = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().decode() for pid in _children(demo.pid)}
        assert len(started) == 2, started
        assert all(cmdline.startswith(str(installed)) for cmdline in started.values()), started

        # What `ps` shows every local user: no token, no key; JupyterLab has its token in its environment.
        for cmdline in started.values():
            assert token not in cmdline and KEY not in cmdline, cmdline
        (lab_pid,) = [pid for pid, cmdline in started.items() if "jupyter" in cmdline]
        assert f"JUPYTER_TOKEN={token}".encode() in Path(f"/proc/{lab_pid}/environ").read_bytes()
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert KEY not in output


@pytest.mark.timeout(600)  # the fresh venv's install (shared with the test above), then JupyterLab's start
def test_a_later_demo_opens_the_users_edited_copy_and_says_how_to_get_the_new_one(installed, tmp_path):
    copy = tmp_path / "data" / "conduit-widget" / "quickstart.ipynb"
    copy.parent.mkdir(parents=True)
    edited = (REPO / "notebooks" / "quickstart.ipynb").read_bytes().replace(b"a red fox", b"a blue fox")
    copy.write_bytes(edited)
    demo = _start_demo(installed, tmp_path)
    try:
        said = _read_line(demo, r"Opening your copy, (\S+) \(delete it to get this version's quickstart\)", 120)
        assert said[1] == str(copy)
        lab = _read_line(demo, r"Open this URL: (http://127\.0\.0\.1:\d+)/lab/tree/(\S+)\?token=(\S+)", 120)
        served = httpx.get(f"{lab[1]}/api/contents/{lab[2]}", headers={"Authorization": f"token {lab[3]}"}).json()
        assert "a blue fox" in str(served["content"])
    finally:
        demo.terminate()
        demo.communicate(timeout=30)
    assert copy.read_bytes() == edited
