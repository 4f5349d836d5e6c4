"""A build hook that runs before hatch-jupyter-builder's: without npm, and without a built front end to ship, a
build from source stops here with one line saying what is missing, not with the builder's traceback."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUILT = tuple(f"conduit_widget/static/{name}" for name in ("widget.js", "widget.css", "gallery.js", "gallery.css"))


class NodeCheck(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        if all((root / name).is_file() for name in BUILT) or shutil.which("npm"):
            return  # the front end ships as built, or npm can build it
        sys.stderr.write(
            "conduit-widget: building from source needs Node.js 20+ with npm on the PATH, to build the front end "
            "in js/ (or install the wheel, which carries it built)\n"
        )
        raise SystemExit(1)
