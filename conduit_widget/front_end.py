"""The widget's side of its contract with the front end in ``js/`` (whose side is ``js/traits.ts``): the synced
traits, the inputs the browser may write and the commands it may send.

The front end is built into ``static/``; the browser gets it as text. It edits a few input traits and sends three
commands; everything else flows from the kernel to it. A test holds this module, the widget's synced traits and
``js/traits.ts`` to the same names and types.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Final

import anywidget
import traitlets

from conduit_widget.client.errors import ConduitWarning

log = logging.getLogger(__name__)

STATIC: Final = Path(__file__).parent / "static"
if not (STATIC / "widget.js").is_file():
    raise ImportError(
        f"conduit-widget's front end is not built ({STATIC / 'widget.js'} is missing). `pip install` builds it; "
        "in a checkout run `make install`, or `npm ci && npm run build` in js/."
    )


def stale_front_end(static: Path, sources: Path) -> str | None:
    """Why the built front end in `static` is older than its sources in `sources` (a checkout's js/), if it is:
    an edited widget.ts that was never rebuilt would otherwise be silently not what the browser runs."""
    if not sources.is_dir():
        return None  # an installed package: no sources beside it, nothing to compare
    built = min((static / name).stat().st_mtime for name in ("widget.js", "widget.css") if (static / name).is_file())
    newer = [p.name for p in sorted(sources.glob("*.ts")) + sorted(sources.glob("*.css")) if p.stat().st_mtime > built]
    if not newer:
        return None
    return (
        f"conduit-widget's built front end ({static}) is older than js/{newer[0]}"
        f"{f' and {len(newer) - 1} more' if len(newer) > 1 else ''}: run `make install` (or `npm run build` in js/)"
    )


if (_stale := stale_front_end(STATIC, Path(__file__).parent.parent / "js")) is not None:
    warnings.warn(_stale, ConduitWarning, stacklevel=2)

# What the front end writes, and the JSON types it writes them as (a bool is refused: True == 1 would slip past
# traitlets).
INPUTS: Final[dict[str, tuple[type, ...]]] = {
    "prompt": (str,),
    "kind": (str,),
    "model": (str,),
    "size": (str,),
    "n": (int,),
    "duration": (int, float),
}
COMMANDS: Final = ("generate", "cancel", "retry", "hello")
# The result's bytes: a saved notebook holds them only when the user asks (embed_media="full").
MAX_IMAGES: Final = 10  # images one widget asks for at most


def source(name: str) -> str | Path:
    """The front end's source as text, not as a path: for a path anywidget makes a watched FileContents and
    ties every widget to its ``changed`` signal with a closure it never disconnects, so no widget would ever
    be freed, closed or not (manzt/anywidget#929). The browser gets the same text either way. A path only
    while developing the front end (``ANYWIDGET_HMR=1``), for live reload."""
    path = STATIC / name
    if os.environ.get("ANYWIDGET_HMR") == "1":
        return path
    text = path.read_text(encoding="utf-8")
    return text if "\n" in text else text + "\n"  # a one-line string ending in ".x" would be taken for a path


def recorded_traits(names: list[str]) -> list[str]:
    """Of a widget's synced traits, those its final state is recorded with: not the front-end module and
    ipywidgets' own (unchanged since the widget was opened). The media traits are in: they hold small previews
    (the full bytes only with embed_media="full"), so a restored widget shows its result without its server."""
    return [name for name in names if not name.startswith("_")]


def screen(sync_data: Any) -> tuple[dict[str, Any], list[Any]]:
    """What of a state the front end sent may be applied: inputs of the right JSON type. The rest is named."""
    if not isinstance(sync_data, dict):
        log.debug("ignoring a front-end state that is not a dict: %r", sync_data)
        return {}, []
    taken: dict[str, Any] = {}
    refused: list[Any] = []
    for name, value in sync_data.items():
        types = INPUTS.get(name)
        if types is None or isinstance(value, bool) or not isinstance(value, types):
            log.debug("ignoring %s=%.80r from the front end", name, value)
            refused.append(name)
        else:
            taken[name] = value
    return taken, refused


def problem_with(kind: str, prompt: str, n: int, size: str, duration: float) -> str | None:
    """What is wrong with the inputs, in a sentence for the widget to show; None when they can be sent."""
    from conduit_widget.client import ConfigurationError, inputs

    if kind not in ("image", "video"):
        return f"kind must be 'image' or 'video', not {kind!r}."
    if not prompt.strip():
        return "Enter a prompt first."
    if kind == "image" and not 1 <= n <= MAX_IMAGES:
        return f"n must be between 1 and {MAX_IMAGES} images, got {n}."
    if size and not inputs.is_size(size):
        return f"size must look like 1024x1024, got {size!r}."
    if duration != 0:  # 0 is the server's default
        try:
            inputs.video_seconds(duration)
        except ConfigurationError as exc:
            return f"{exc.message} (or 0 for the server's default)."
    return None


# What a page needs to load the widget at all: its model and view classes, and anywidget's module with our JS and CSS.
FRONT_END_IDENTITY: Final = (
    "_model_name",
    "_model_module",
    "_model_module_version",
    "_view_name",
    "_view_module",
    "_view_module_version",
    "_anywidget_id",
    "_esm",
    "_css",
)


class SyncedTraits(anywidget.AnyWidget):
    """The traits a GenerationWidget syncs with its front end (``js/traits.ts`` declares the same), and the
    front end itself. The widget's behaviour is in ``conduit_widget.widget``."""

    _esm = source("widget.js")
    _css = source("widget.css")

    # What the user asks for (editable in the front end).
    prompt = traitlets.Unicode("").tag(sync=True)
    kind = traitlets.Unicode("image").tag(sync=True)
    model = traitlets.Unicode("").tag(sync=True)  # "" = the default model
    models = traitlets.List(traitlets.Dict()).tag(sync=True)
    size = traitlets.Unicode("").tag(sync=True)
    n = traitlets.Int(1).tag(sync=True)
    duration = traitlets.Float(0.0).tag(sync=True)  # whole seconds; 0 = the server's default
    compact = traitlets.Bool(False).tag(sync=True)  # a Gallery tile: a caption, never an editor
    editable = traitlets.Bool(True).tag(sync=True)  # the editor open; closed it is one click ("Edit") away
    # What is happening (kernel to browser only).
    status = traitlets.Unicode("idle").tag(sync=True)
    progress = traitlets.Int(0).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)
    eta_seconds = traitlets.Float(None, allow_none=True).tag(sync=True)
    elapsed_seconds = traitlets.Float(0.0).tag(sync=True)
    started_at = traitlets.Float(0.0).tag(sync=True)
    task_id = traitlets.Unicode("").tag(sync=True)
    image_url = traitlets.Unicode("").tag(sync=True)
    image_urls = traitlets.List(traitlets.Unicode()).tag(sync=True)
    video_url = traitlets.Unicode("").tag(sync=True)
    preview_url = traitlets.Unicode("").tag(sync=True)
    media = traitlets.List(traitlets.Bytes()).tag(sync=True)  # the result's bytes, when embedded
    media_types = traitlets.List(traitlets.Unicode()).tag(sync=True)
    poster = traitlets.Bytes(b"").tag(sync=True)
    poster_type = traitlets.Unicode("").tag(sync=True)
    # media and poster hold small JPEG previews; live views get the full bytes by message (media_channel).
    media_is_preview = traitlets.Bool(False).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    retryable = traitlets.Bool(False).tag(sync=True)
    connection = traitlets.Unicode("connecting").tag(sync=True)
    backend = traitlets.Unicode("").tag(sync=True)
    static_id = traitlets.Unicode("").tag(sync=True)
    # The parameter line of the finished run (conduit_widget.details): model, resolution, seed, task id, timings.
    details = traitlets.Dict().tag(sync=True)

    def get_state(self, key: Any = None, drop_defaults: bool = False) -> dict[str, Any]:
        """The state, as ipywidgets' get_state. Its `drop_defaults` (the default of ipywidgets.embed) leaves out every
        value equal to its trait's default, and for an anywidget those include its class, module, JS and CSS: the
        embedded page said "Class null not found". Those are always kept."""
        state: dict[str, Any] = super().get_state(key, drop_defaults=drop_defaults)
        if drop_defaults:
            asked = self.keys if key is None else ([key] if isinstance(key, str) else list(key))
            state.update(
                super().get_state([name for name in FRONT_END_IDENTITY if name in asked and name in self.keys])
            )
        return state

    @traitlets.validate("n")
    def _n_is_a_whole_number(self, proposal: Any) -> int:
        value = proposal["value"]
        if isinstance(value, bool):  # traitlets' Int takes True for 1, which the server would not
            raise traitlets.TraitError(f"n must be a whole number of images, got {value!r}")
        return int(value)

    def set_state(self, sync_data: Any) -> None:
        """What the browser writes: only the inputs it edits, each on its own. A value the kernel refuses (a
        wrong type, a trait the browser does not own) is dropped with a DEBUG line and the kernel's value is
        sent back, so that the two sides agree again; nothing raises out of the comm handler."""
        taken, refused = screen(sync_data)
        for name, value in taken.items():
            try:
                super().set_state({name: value})
            except (traitlets.TraitError, TypeError, ValueError) as exc:
                log.debug("ignoring %s=%.80r from the front end: %s", name, value, exc)
                refused.append(name)
        ours = [name for name in refused if isinstance(name, str) and name in self.keys]
        if ours:
            self.send_state(ours)
