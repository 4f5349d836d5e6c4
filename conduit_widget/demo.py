"""`conduit-widget demo`: the local Conduit and JupyterLab together, started, watched and stopped as one."""

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
from pathlib import Path


def run_demo(args: argparse.Namespace) -> int:
    """The local Conduit in a process of its own, and JupyterLab on a notebook with CONDUIT_* pointing at it."""
    notebook = Path(args.notebook).resolve()
    if not notebook.is_file():
        print(f"conduit-widget: error: no notebook at {args.notebook}", file=sys.stderr)
        return 2
    if not notebook.is_relative_to(Path.cwd()):
        print(
            "conduit-widget: error: the notebook must be inside this folder (JupyterLab serves from here)",
            file=sys.stderr,
        )
        return 2
    notebook = notebook.relative_to(Path.cwd())
    jupyter = shutil.which("jupyter", path=str(Path(sys.executable).parent)) or shutil.which("jupyter")
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
        "--host",
        args.host,
        "--port",
        str(port),
    ]
    server_cmd += ["--speed", str(args.speed), "--profile", args.profile]
    if args.data_dir:
        server_cmd += ["--data-dir", str(args.data_dir)]
    # The key travels in the environment, never on a command line other users could read in `ps`.
    env = {**os.environ, "CONDUIT_BASE_URL": base_url, "CONDUIT_API_KEY": key}
    server = subprocess.Popen(server_cmd, env=env, stdout=subprocess.DEVNULL)
    try:
        _wait_ready(base_url + "/health", server, "the local Conduit")
        token = secrets.token_urlsafe(16)
        lab_port = args.lab_port if args.lab_port and _port_is_free(args.lab_port) else _free_port("127.0.0.1")
        lab_cmd = [jupyter, "lab", f"--ServerApp.port={lab_port}", "--ServerApp.port_retries=0"]
        lab_cmd += ["--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", "--ServerApp.log_level=WARN"]
        lab_cmd += ["--LabApp.default_url=/lab/tree/" + notebook.as_posix()]
        if args.no_browser:
            lab_cmd.append("--no-browser")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            lab_cmd.append("--allow-root")  # containers and CI run as root; Jupyter refuses without this
        lab = subprocess.Popen(lab_cmd, env=env)
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
