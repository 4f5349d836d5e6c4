"""signalrcore pins msgpack exactly (1.0.2: ``msgpack==1.1.2``), which clashes with this project's msgpack, so
the reference client runs from a venv of its own, ``benchmarks/.venv-signalrcore`` (git-ignored), made by the
first full benchmark run (it needs PyPI once); ``--quick`` runs only use it if it is already there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

VENV: Final = Path(__file__).resolve().parent / ".venv-signalrcore"
REQUIREMENT: Final = "signalrcore==1.0.2"
SCRIPT: Final = Path(__file__).resolve().parent / "signalrcore_client.py"
_MARKER: Final = VENV / "installed.txt"


def python(*, create: bool) -> Path | None:
    """The venv's interpreter with signalrcore installed; made now if `create`, else None when missing."""
    exe = VENV / "bin" / "python"
    if exe.is_file() and _MARKER.is_file() and _MARKER.read_text().strip() == REQUIREMENT:
        return exe
    if not create:
        return None
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True, timeout=120)
        subprocess.run(
            [str(exe), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", REQUIREMENT],
            check=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"(signalrcore reference unavailable: making {VENV} failed: {exc})", file=sys.stderr)
        return None
    _MARKER.write_text(REQUIREMENT + "\n")
    return exe
