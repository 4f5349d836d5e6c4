"""A gateway user's install is lean: importing the package, its client and making a widget load neither the local
Conduit nor its media stack, and without the `local` extra every way in says in one line how to get a Conduit.

Each check runs in a fresh interpreter (`python -c`): this process has long imported everything.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conduit_widget.client.local_conduit import NEEDS_EXTRA, NOT_CONFIGURED
from conduit_widget.embedding import MAX_PICTURE_PIXELS, header_size, picture_problem

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("av", "PIL", "aiohttp.web", "conduit_widget.server")
MISSING = r" \(no module '(av|PIL)'\)"  # whichever of the extra's modules the server imports first

# The `local` extra not installed, as Python sees it: a meta-path finder ahead of all others refuses PyAV and
# Pillow, so `import av` raises ModuleNotFoundError(name="av") exactly as it does where the package is absent.
WITHOUT_EXTRA = """
import importlib.abc, sys
class NoLocalExtra(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("av", "PIL"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, NoLocalExtra())
"""


def _python(code: str, *, configured: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUIT_")}
    env["PYTHONPATH"] = str(ROOT)
    if configured:
        env |= {"CONDUIT_BASE_URL": "http://127.0.0.1:9", "CONDUIT_API_KEY": "condk_lean"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def _heavy_in(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


LOADED = "import json, sys; print(json.dumps(sorted(sys.modules)))"


@pytest.mark.parametrize(
    "code",
    [
        "import conduit_widget",
        "import conduit_widget.client",
        "from conduit_widget import ConduitClient, GenerationWidget\n"
        "client = ConduitClient(base_url='http://127.0.0.1:9', api_key='condk_lean')\n"
        "widget = GenerationWidget(client=client, prompt='a fox')",
        "from conduit_widget import GenerationWidget\nwidget = GenerationWidget(prompt='a fox')",  # from CONDUIT_*
    ],
    ids=["package", "client", "widget-with-gateway", "widget-from-environment"],
)
def test_what_a_gateway_user_runs_loads_no_server_nor_media_stack(code: str) -> None:
    done = _python(f"{code}\n{LOADED}", configured=True)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert "conduit_widget" in loaded
    assert _heavy_in(loaded) == []


def test_the_local_conduit_loads_them_when_it_starts() -> None:
    # The other side of the test above: the list of heavy modules is the one the server really needs.
    done = _python(f"from conduit_widget import LocalConduit\n{LOADED}")
    assert done.returncode == 0, done.stderr
    assert {"av", "PIL", "aiohttp.web", "conduit_widget.server.local"} <= set(json.loads(done.stdout.splitlines()[-1]))


def test_without_the_extra_the_package_still_imports_and_a_gateway_widget_is_made() -> None:
    done = _python(
        WITHOUT_EXTRA + "import conduit_widget\nfrom conduit_widget import GenerationWidget\n"
        "w = GenerationWidget(prompt='a fox', auto_start=False)\nprint(w.status, repr(w.error))",
        configured=True,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "idle ''"


def test_a_client_with_nothing_configured_says_how_to_get_a_conduit() -> None:
    done = _python(
        WITHOUT_EXTRA + "import asyncio\nfrom conduit_widget import ConduitClient, ConfigurationError\n"
        "async def main():\n"
        "    try:\n"
        "        async with ConduitClient():\n"
        "            pass\n"
        "    except ConfigurationError as exc:\n"
        "        print(exc.message)\n"
        "asyncio.run(main())"
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch(re.escape(NOT_CONFIGURED) + MISSING + "\n", done.stdout)


def test_the_widget_shows_it_as_its_error() -> None:
    done = _python(
        WITHOUT_EXTRA + "import asyncio\nfrom conduit_widget import ConduitError, GenerationWidget\n"
        "async def main():\n"
        "    w = GenerationWidget(prompt='a fox')\n"
        "    try:\n"
        "        await w.wait(30)\n"
        "    except ConduitError:\n"
        "        print(w.status, w.error, sep='|')\n"
        "asyncio.run(main())"
    )
    assert done.returncode == 0, done.stderr
    assert re.fullmatch("failed\\|" + re.escape(NOT_CONFIGURED) + MISSING + "\n", done.stdout)


@pytest.mark.parametrize(
    ("argv", "said"),
    [(["generate", "a fox"], NOT_CONFIGURED), (["serve", "--port", "0"], NEEDS_EXTRA)],
    ids=["generate", "serve"],
)
def test_the_cli_says_it_in_one_line_with_exit_2(argv: list[str], said: str) -> None:
    done = _python(WITHOUT_EXTRA + f"from conduit_widget.cli import main\nsys.exit(main({argv!r}))")
    assert done.returncode == 2, done.stderr
    assert re.fullmatch("conduit-widget: error: " + re.escape(said) + MISSING + "\n", done.stderr)


def _encoded(fmt: str, size: tuple[int, int], **options: object) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size).save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("PNG", {}),
        ("JPEG", {}),
        ("JPEG", {"progressive": True}),
        ("GIF", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
    ],
)
@pytest.mark.parametrize("size", [(1, 1), (37, 5), (300, 2000), (16383, 3)])
def test_the_header_says_the_size_pillow_reads(fmt: str, options: dict[str, object], size: tuple[int, int]) -> None:
    data = _encoded(fmt, size, **options)
    assert header_size(data) == size
    assert picture_problem(data) is None


def test_without_pillow_the_pixel_rule_and_the_refusal_still_hold(tmp_path: Path) -> None:
    side = int(MAX_PICTURE_PIXELS**0.5) + 1
    too_many = _encoded("PNG", (side, side))
    for data in (too_many, b"<html>not a picture</html>", b"\x89PNG\r\n\x1a\n"):
        assert picture_problem(data) is not None
    picture = tmp_path / "big.png"
    picture.write_bytes(too_many)
    done = _python(
        WITHOUT_EXTRA + "from pathlib import Path\nfrom conduit_widget.embedding import picture_problem\n"
        f"print(picture_problem(Path({str(picture)!r}).read_bytes()))\nprint('PIL' in sys.modules)"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{picture_problem(too_many)}\nFalse\n"


def test_messagepack_without_lz4_is_refused_in_one_line_and_json_needs_nothing_more() -> None:
    without_lz4 = WITHOUT_EXTRA.replace('("av", "PIL")', '("lz4",)')
    code = (
        f"{without_lz4}\nfrom conduit_widget import ConduitClient\n"
        "ConduitClient(base_url='http://127.0.0.1:9', api_key='condk_lean')  # JSON: fine\n"
        "try:\n    ConduitClient(base_url='http://127.0.0.1:9', api_key='condk_lean', hub_protocol='messagepack')\n"
        "except ValueError as exc:\n    print(exc)\n"
        f"{LOADED}"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    said, loaded = done.stdout.splitlines()[0], json.loads(done.stdout.splitlines()[-1])
    assert said.startswith("hub_protocol='messagepack' needs lz4") and "conduit-widget[messagepack]" in said
    assert not [m for m in loaded if m.split(".")[0] == "lz4"]


def test_generate_without_the_cli_extra_says_how_to_get_it_before_anything_is_sent() -> None:
    without_rich = WITHOUT_EXTRA.replace('("av", "PIL")', '("rich",)')
    argv = ["generate", "a fox", "--size", "64x64"]
    done = _python(without_rich + f"from conduit_widget.cli import main\nsys.exit(main({argv!r}))", configured=True)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == "conduit-widget: error: generate draws its progress with rich: pip install 'conduit-widget[cli]'\n"
    )
