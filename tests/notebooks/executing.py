"""Notebooks run as `jupyter nbconvert --execute` runs them: the real command, in a child process, against a
given Conduit, with this checkout's package first on the kernel's path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "notebooks" / "quickstart.ipynb"


def nbconvert(*args: str, env: dict[str, str] | None = None) -> None:
    command = [sys.executable, "-m", "jupyter", "nbconvert", *args]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)


def execute(source: Path, out_dir: Path, conduit: Any) -> Path:
    """`jupyter nbconvert --execute --to notebook` of `source` into `out_dir` (widget state stored, nbclient's
    default); returns the executed notebook's path."""
    env = {**os.environ, "CONDUIT_BASE_URL": conduit.base_url, "CONDUIT_API_KEY": conduit.api_key}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    nbconvert("--execute", "--to", "notebook", "--output-dir", str(out_dir), str(source), env=env)
    return out_dir / source.name
