"""What a package index and a checkout tell a user: the license and Pythons it claims, and a front end that is
not silently older than its sources. (.ci/package-check builds and installs the real wheel.)"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from conduit_widget.front_end import stale_front_end

ROOT = Path(__file__).resolve().parents[1]


def test_the_metadata_names_the_license_file_and_every_python_it_supports() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert "License :: OSI Approved :: MIT License" in project["classifiers"]
    oldest = int(project["requires-python"].removeprefix(">=3."))
    claimed = {
        c.rsplit(".", 1)[1] for c in project["classifiers"] if c.startswith("Programming Language :: Python :: 3.")
    }
    assert str(oldest) in claimed and all(int(minor) >= oldest for minor in claimed)


def _tree(tmp_path: Path, built_at: float, source_at: float) -> tuple[Path, Path]:
    static, js = tmp_path / "static", tmp_path / "js"
    static.mkdir()
    js.mkdir()
    for path, moment in ((static / "widget.js", built_at), (static / "widget.css", built_at)):
        path.write_text("built")
        os.utime(path, (moment, moment))
    for name in ("widget.ts", "media.ts", "widget.css"):
        (js / name).write_text("source")
        os.utime(js / name, (source_at, source_at))
    return static, js


def test_a_front_end_built_after_its_sources_is_not_stale(tmp_path: Path) -> None:
    assert stale_front_end(*_tree(tmp_path, built_at=2_000, source_at=1_000)) is None


def test_a_source_edited_after_the_build_is_named_with_how_to_rebuild(tmp_path: Path) -> None:
    static, js = _tree(tmp_path, built_at=1_000, source_at=1_000)
    os.utime(js / "widget.ts", (3_000, 3_000))
    why = stale_front_end(static, js)
    assert why is not None and "\n" not in why
    assert "older than js/widget.ts" in why and "npm run build" in why


def test_an_installed_package_has_no_sources_to_compare(tmp_path: Path) -> None:
    static, _ = _tree(tmp_path, built_at=1_000, source_at=2_000)
    assert stale_front_end(static, tmp_path / "no-js-here") is None
