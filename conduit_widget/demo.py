"""`conduit-widget demo`: the local Conduit and JupyterLab together, started, watched and stopped as one.

The quickstart notebook has one source, notebooks/quickstart.ipynb: a wheel carries it as
conduit_widget/notebooks/quickstart.ipynb (pyproject's force-include), and an installed demo opens a copy of it in
a folder of the user's (site-packages may not be writable, and edits must survive an upgrade). From a checkout the
demo opens the checkout's own. Secrets stay off command lines, which `ps` shows every local user: the server's key
and JupyterLab's token travel in the environment of the process that needs them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from importlib import resources
from pathlib import Path

QUICKSTART = "quickstart.ipynb"


def run_demo(args: argparse.Namespace, server_options: list[str]) -> int:
    """The local Conduit in a process of its own (`serve`, given the demo's values of its `server_options`), and
    JupyterLab on a notebook with CONDUIT_* pointing at it."""
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        print(
            "conduit-widget: error: JupyterLab is not installed here (pip install 'conduit-widget[local,demo]')",
            file=sys.stderr,
        )
        return 2
    found = _user_notebook(args.notebook) if args.notebook else _quickstart()
    if isinstance(found, str):
        print(f"conduit-widget: error: {found}", file=sys.stderr)
        return 2
    root, notebook = found
    # SIGTERM = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
    if jupyter is None:
        print(
            "conduit-widget: error: JupyterLab is not installed here (pip install jupyterlab)",
            file=sys.stderr,
        )
        return 2
    # SIGTERM (a `kill`, a test harness, a container stop) must stop the server and JupyterLab too:
    # raising SystemExit here runs the `finally` blocks below, which Python's default handler would skip.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    key = args.api_key or f"condt_{secrets.token_urlsafe(24)}"
    port = args.port or _free_port(args.host)
    base_url = f"http://{args.host}:{port}"
    server_cmd = [
        sys.executable,
        "-m",
        "conduit_widget.cli",
        "serve",
        *serve_argv(args, server_options),
        "--port",
        str(port),
    ]
    # The key travels in the environment, never on a command line other users could read in `ps`.
    env = {**os.environ, "CONDUIT_BASE_URL": base_url, "CONDUIT_API_KEY": key}
    server = subprocess.Popen(server_cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(base_url + "/health", server, "the local Conduit")
        token = secrets.token_urlsafe(16)
        lab_port = args.lab_port if args.lab_port and _port_is_free(args.lab_port) else _free_port("127.0.0.1")
        lab_cmd = [jupyter, "lab", f"--ServerApp.port={lab_port}", "--ServerApp.port_retries=0"]
        lab_cmd += ["--ServerApp.ip=127.0.0.1", "--ServerApp.log_level=WARN", f"--ServerApp.root_dir={root}"]
        lab_cmd += ["--LabApp.default_url=/lab/tree/" + notebook.as_posix()]
        if args.no_browser:
            lab_cmd.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lab_cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses without this
        # jupyter_server's IdentityProvider reads JUPYTER_TOKEN when no token is configured (2.x; >=2.4 here).
        lab = subprocess.Popen(lab_cmd, env={**env, "JUPYTER_TOKEN": token})
        try:
            _wait_ready(f"http://127.0.0.1:{lab_port}/api/status?token={token}", lab, "JupyterLab", timeout=120)
            print(f"\nLocal Conduit: {base_url}", flush=True)
            print(
                f"Open this URL: http://127.0.0.1:{lab_port}/lab/tree/{notebook.as_posix()}?token={token}", flush=True
            )
            print("Press Ctrl+C to stop both.\n", flush=True)
            return lab.wait()
        finally:
            lab.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                lab.wait(10)
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(10)


def serve_argv(args: argparse.Namespace, names: list[str]) -> list[str]:
    """`args`' values of the options `names` as `serve`'s arguments; not the key (the environment carries it, out
    of `ps`), nor the port (the demo picks one, to know the URL)."""
    argv: list[str] = []
    for name in names:
        value = getattr(args, name)
        if value is not None and name not in ("api_key", "port"):
            argv += [f"--{name.replace('_', '-')}", str(value)]
    return argv


def _user_notebook(name: str) -> tuple[Path, Path] | str:
    """A notebook of the user's: JupyterLab serves this folder, so it must be in it."""
    notebook = Path(name).resolve()
    if not notebook.is_file():
        return f"no notebook at {name}"
    if not notebook.is_relative_to(Path.cwd()):
        return "the notebook must be inside this folder (JupyterLab serves from here)"
    return Path.cwd(), notebook.relative_to(Path.cwd())


def _quickstart() -> tuple[Path, Path] | str:
    """The folder JupyterLab serves and the quickstart in it: a checkout's own, or else a copy of the one the wheel
    carries, made on first use and kept after (it is the user's to edit)."""
    checkout = Path(__file__).resolve().parents[1]
    if (checkout / "notebooks" / QUICKSTART).is_file() and (checkout / "pyproject.toml").is_file():
        return checkout, Path("notebooks", QUICKSTART)
    shipped = resources.files("conduit_widget").joinpath("notebooks", QUICKSTART)
    if not shipped.is_file():
        return "this installation has no quickstart notebook: reinstall conduit-widget, or pass --notebook"
    folder = demo_folder()
    copy = folder / QUICKSTART
    if not copy.exists():
        folder.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(shipped.read_bytes())
    elif copy.read_bytes() != shipped.read_bytes():
        print(f"Opening your copy, {copy} (delete it to get this version's quickstart)", flush=True)
    return folder, Path(QUICKSTART)


def demo_folder() -> Path:
    """Where the demo keeps its copy of the quickstart: the user's data folder (XDG's, as Jupyter's own on Linux)."""
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "conduit-widget"


def _port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port(host: str) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_ready(url: str, process: subprocess.Popen[bytes], name: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise OSError(f"{name} exited with code {process.returncode} before it was ready")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):  # noqa: S310
            return  # our own loopback URL answered
        time.sleep(0.1)
    raise OSError(f"{name} did not answer within {timeout:.0f} s")
