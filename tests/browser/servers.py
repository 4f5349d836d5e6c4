"""Jupyter servers (JupyterLab, Notebook 7, Voilà, the demo) as child processes, isolated from the user's setup.

Each runs in a process group of its own, with its configuration, data, settings, workspaces and runtime
folders in a throw-away directory, so nothing of the machine's Jupyter set-up leaks in and nothing leaks out.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import httpx

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = REPO / "tests" / "_artifacts"

# Front-end settings every server starts with: no news or update checks (they would reach for the internet
# and put a toast over the screenshots), and no autosave (the demo serves the repository's own notebook).
SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
}
THEME_SETTINGS = "@jupyterlab/apputils-extension/themes"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Isolation:
    """The throw-away folders a Jupyter process uses instead of the user's, and the environment naming them."""

    def __init__(self, base: Path, conduit: Any | None) -> None:
        self.base = base
        self.settings = base / "settings"
        for name, values in SETTINGS.items():
            self.write_setting(name, values)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUIT_", "JUPYTER", "JPY_"))}
        self.env.update(
            JUPYTER_CONFIG_DIR=str(base / "config"),
            JUPYTER_DATA_DIR=str(base / "data"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            JUPYTERLAB_SETTINGS_DIR=str(self.settings),
            JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"),
            IPYTHONDIR=str(base / "ipython"),
            PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            PYTHONUNBUFFERED="1",
        )
        if conduit is not None:
            self.env.update(CONDUIT_BASE_URL=conduit.base_url, CONDUIT_API_KEY=conduit.api_key)

    def write_setting(self, plugin: str, values: dict[str, Any]) -> None:
        path = self.settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))

    def reset_theme(self) -> None:
        """Back to the default (light) theme: a test that switched to the dark one leaves it saved here."""
        (self.settings / f"{THEME_SETTINGS}.jupyterlab-settings").unlink(missing_ok=True)


class ServerProcess:
    """A server command in a process group of its own; `stop()` ends the whole group."""

    def __init__(self, name: str, cmd: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        log_dir = ARTIFACTS / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log_tail(self, lines: int = 40) -> str:
        if not self._log.closed:
            self._log.flush()
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_until_answers(self, url: str, timeout: float = 90, *, any_answer: bool = False) -> None:
        """Wait until `url` answers 200 (with `any_answer`, any HTTP answer at all); stop the server if not."""
        try:
            self._wait(url, timeout, any_answer)
        except BaseException:
            self.stop()
            raise

    def _wait(self, url: str, timeout: float, any_answer: bool) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.name} exited with code {self.process.returncode} before answering:\n{self.log_tail()}"
                )
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(url, timeout=2).status_code
                if status == 200 or (any_answer and status < 500):
                    return
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not answer {url} within {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self, timeout: float = 15) -> None:
        """SIGTERM to the process group (Jupyter then shuts its kernels down), SIGKILL if it lingers."""
        try:
            if self.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGTERM)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout)
            # Whatever is left in the group (the leader may be gone, its children not).
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        finally:
            self._log.close()


class JupyterServer(ServerProcess):
    """`jupyter lab` or `jupyter notebook` on a free port, with a random token, serving `root`."""

    def __init__(self, app: str, root: Path, isolation: Isolation) -> None:
        self.app = app
        self.root = root
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "jupyter", app, "--no-browser", "--allow-root"]
        cmd += ["--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0"]
        cmd += [f"--ServerApp.token={self.token}", f"--ServerApp.root_dir={root}"]
        # window.jupyterapp, so that tests can run the app's commands.
        app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
        cmd += [f"--{app_class}.expose_app_in_browser=True"]
        super().__init__(f"jupyter-{app}", cmd, env=isolation.env, cwd=root)
        self.wait_until_answers(self.api_url("status"))

    def api_url(self, path: str) -> str:
        return f"{self.base_url}/api/{path}?token={self.token}"

    def api(self, method: str, path: str) -> httpx.Response:
        response = httpx.request(method, self.api_url(path), timeout=30)
        response.raise_for_status()
        return response

    def page_url(self, path: str) -> str:
        if self.app == "lab":
            # `reset`: start from an empty workspace, not the tabs an earlier test left open.
            return f"{self.base_url}/lab/tree/{path}?reset&token={self.token}"
        return f"{self.base_url}/notebooks/{path}?token={self.token}"

    def shut_down_kernels(self) -> None:
        for session in self.api("GET", "sessions").json():
            with contextlib.suppress(httpx.HTTPError):
                self.api("DELETE", f"sessions/{session['id']}")


class VoilaServer(ServerProcess):
    """`voila NOTEBOOK` on a free port."""

    def __init__(self, notebook: Path, isolation: Isolation) -> None:
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "voila", notebook.name, f"--port={self.port}", "--no-browser"]
        cmd += ["--Voila.ip=127.0.0.1", "--Voila.port_retries=0", f"--Voila.token={self.token}"]
        super().__init__("voila", cmd, env=isolation.env, cwd=notebook.parent)
        # Not the page itself: each GET of it starts a kernel and runs the notebook. Voilà's API redirects
        # requests it does not serve; any answer means it is up.
        self.wait_until_answers(f"{self.base_url}/api/status", any_answer=True)

    def page_url(self) -> str:
        return f"{self.base_url}/?token={self.token}"
