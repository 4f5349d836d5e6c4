"""`Gallery`: many generations in one dense view, filling in as they finish (the seed hook's tasks map).

The Gallery is one anywidget (``js/gallery.ts``) rather than a grid of widgets: marimo renders only anywidgets,
and a grid of full widgets repeated the status, connection, backend and Cancel on every tile. Each prompt still
gets a GenerationWidget, never displayed, that runs the generation and holds its result (`widgets`); the
Gallery shows their states (``gallery_tiles``) under one header, coalesced as a widget's progress is.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from typing import Any

import anywidget
import traitlets

from conduit_widget import front_end, gallery_tiles, recording, request_memo, runs, static_copy
from conduit_widget.client import ConduitClient, ConduitError, ConfigurationError, inputs
from conduit_widget.client.models import TaskResult, TaskUpdate
from conduit_widget.coalesce import Coalescer
from conduit_widget.widget import UPDATE_INTERVAL, GenerationWidget

WATCHED = ["status", "progress", "message", "error", "retryable", "image_url", "video_url", "connection", "backend"]


class Gallery(anywidget.AnyWidget):
    """Tiles of generations under one header. ``await gallery.generate_many(["a fox", "a cat"])``."""

    _esm = front_end.source("gallery.js")
    _css = front_end.source("gallery.css")

    columns = traitlets.Int(4).tag(sync=True)  # the most side by side; fewer where the space is narrower
    tiles = traitlets.List(traitlets.Dict()).tag(sync=True)  # gallery_tiles.state_of each tile
    pictures = traitlets.List(traitlets.Unicode()).tag(sync=True)  # each tile's picture, "" until it has one
    connection = traitlets.Unicode("").tag(sync=True)
    backend = traitlets.Unicode("").tag(sync=True)
    static_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, client: ConduitClient | None = None, columns: int = 4, **kwargs: Any) -> None:
        if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= 12:
            raise ConfigurationError(f"columns must be a whole number from 1 to 12, got {columns!r:.80}")
        if client is not None and not isinstance(client, ConduitClient):
            raise ConfigurationError(f"client must be a ConduitClient (or None for the default), got {client!r:.80}")
        unknown = sorted(name for name in kwargs if not self.has_trait(name))
        if unknown:
            raise ConfigurationError(f"Gallery got unknown argument(s): {', '.join(unknown)}")
        super().__init__(columns=columns, static_id=uuid.uuid4().hex, **kwargs)
        self._client = client
        self._owns_layout = "layout" not in kwargs  # a Layout passed in may be shared: not ours to close
        self._static_handles: list[Any] = []
        self._tiles: list[GenerationWidget] = []
        self._queued: set[int] = set()  # tiles waiting for a slot (by index)
        self._skipped: set[int] = set()  # queued tiles cancelled before they started
        self._runs: set[asyncio.Task[Any]] = set()  # retries started from the front end
        self._jobs: set[asyncio.Task[Any]] = set()  # generate_many's, ended by their tiles (close closes those)
        self._shown = Coalescer(self._show_tiles, UPDATE_INTERVAL)
        self._closed = False
        self.on_msg(self._on_front_end_message)

    def __repr__(self) -> str:
        done = sum(t["status"] == "completed" for t in self.tiles)
        return f"<Gallery {done} of {len(self.tiles)} completed>"

    @property
    def widgets(self) -> list[GenerationWidget]:
        """The GenerationWidget behind each tile, in order: its task, result, `save()`, `wait()`."""
        return list(self._tiles)

    @property
    def tasks(self) -> dict[str, TaskUpdate]:
        """Each task's latest state, by task id (tasks not yet created are not in it)."""
        return {w.task.id: w.task.update for w in self._tiles if w.task is not None}

    def generate_many(
        self, prompts: Iterable[str], *, kind: str = "image", concurrency: int = 4, **options: Any
    ) -> asyncio.Task[list[TaskResult | None]]:
        """Add a tile per prompt and generate them, `concurrency` at a time. Returns the running Task: ``await`` it
        for the results in prompt order (None where the input was refused, or the tile was cancelled while
        queued: the tile says why), or leave it to run, as a marimo cell's last line does.

        The tiles are made here, in the caller's cell, not when the Task first runs: marimo opens a widget's comm
        only inside a cell, and un-awaited, the Task first runs after the cell ended."""
        if self._closed:
            raise ConduitError("the gallery was closed: make a new Gallery")
        inputs.one_of("kind", kind, ("image", "video"))
        if isinstance(prompts, str) or not isinstance(prompts, Iterable):
            raise ConfigurationError(f"prompts must be a list of prompts (strings), got {prompts!r:.80}")
        prompts = list(prompts)
        wrong = [p for p in prompts if not isinstance(p, str)]
        if wrong:  # checked before any tile is made: none is left half-made by a later one's mistake
            raise ConfigurationError(f"prompts must be strings, got {wrong[0]!r:.80}")
        if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
            raise ConfigurationError(f"concurrency must be a whole number of at least 1, got {concurrency!r:.80}")
        loop = runs.running_loop()
        if loop is None:
            raise ConduitError("generate_many() needs a running event loop: call it in a notebook cell")
        made = [
            gallery_tiles.GalleryTile(p, kind=kind, client=self._client, auto_start=False, compact=True, **options)
            for p in prompts
        ]
        for tile in made:  # a tile's first run is its auto start: in marimo it adopts a re-run's task (request_memo)
            tile._adopt = request_memo.applies()
        first = len(self._tiles)
        indices = list(range(first, first + len(made)))
        self._tiles += made
        self._queued.update(indices)
        for tile in made:
            gallery_tiles.keep_media_in_the_kernel(tile)
            tile.observe(self._on_tile_change, names=WATCHED)
        self.pictures = [*self.pictures, *[""] * len(made)]
        self._show_tiles()
        job = loop.create_task(self._generate_tiles(indices, asyncio.Semaphore(concurrency)))
        self._jobs.add(job)  # held: a Task nobody awaits is otherwise only weakly referenced by asyncio
        job.add_done_callback(self._jobs.discard)
        return job

    async def _generate_tiles(self, indices: list[int], slots: asyncio.Semaphore) -> list[TaskResult | None]:
        async def run(index: int) -> TaskResult | None:
            async with slots:
                self._queued.discard(index)
                if index in self._skipped or self._closed:
                    return None
                return await self._run_tile(index)

        results = await asyncio.gather(*(run(i) for i in indices))
        self._write_static_copy()
        return list(results)

    def cancel_all(self) -> None:
        """Cancel every tile: queued ones never start; running ones are cancelled on the server."""
        for index in range(len(self._tiles)):
            self._cancel(index)

    def close(self) -> None:
        """Close the gallery and the tiles it made (their tasks go on on the server)."""
        if "_tiles" not in self.__dict__:  # its construction failed (ipywidgets' __del__ closes it all the same)
            super().close()
            return
        self._closed = True
        self._shown.drop()
        for run in self._runs:
            run.cancel()
        tiles, self._tiles = self._tiles, []
        for tile in tiles:
            tile.close()
        layout = self.layout if self._owns_layout else None
        super().close()
        if layout is not None:  # ipywidgets closes a widget but not the Layout it made for it (see the widget's close)
            layout.close()

    # -- the tiles -------------------------------------------------------------------------------

    async def _run_tile(self, index: int) -> TaskResult | None:
        tile = self._tiles[index]
        job = tile.generate()
        if job is None or await job is None:
            self._show_tiles()
            return None
        picture = await gallery_tiles.picture_of(tile)
        if not self._closed:
            self.pictures = [picture if i == index else p for i, p in enumerate(self.pictures)]
            self._show_tiles()  # the ending, exactly
        return tile.result

    def _cancel(self, index: int) -> None:
        if not 0 <= index < len(self._tiles):
            return
        if index in self._queued:
            self._skipped.add(index)
            tile = self._tiles[index]
            with tile.hold_sync():
                tile.status, tile.error = "cancelled", "Cancelled before it started."
        else:
            self._tiles[index].cancel()

    def _retry(self, index: int) -> None:
        loop = runs.running_loop()
        if not 0 <= index < len(self._tiles) or loop is None or index in self._queued or self._closed:
            return
        self._skipped.discard(index)
        self.pictures = ["" if i == index else p for i, p in enumerate(self.pictures)]
        run = loop.create_task(self._run_tile(index))
        self._runs.add(run)
        run.add_done_callback(self._after_retry)

    def _after_retry(self, run: asyncio.Task[Any]) -> None:
        self._runs.discard(run)
        if not run.cancelled():
            self._write_static_copy()

    def _on_tile_change(self, change: Any) -> None:
        loop = runs.running_loop()
        if loop is None or self._closed:
            self._show_tiles()
        else:
            self._shown.offer(True, loop)

    def _show_tiles(self, _: object = None) -> None:
        if self._closed:
            return
        self._shown.drop()
        tiles = self._tiles
        with self.hold_sync():  # one message for the lot
            self.tiles = [gallery_tiles.state_of(t, i in self._queued) for i, t in enumerate(tiles)]
            started = [t for t in tiles if t.backend]
            if started:
                self.connection, self.backend = started[-1].connection, started[-1].backend

    def _on_front_end_message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        index = content.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else -1
        command = content.get("type")
        if command == "cancel_all":
            self.cancel_all()
        elif command == "cancel":
            self._cancel(index)
        elif command == "retry":
            self._retry(index)
        elif command == "hello":  # a view asks whether a kernel holds its model (js/restored.ts)
            self.send({"type": "hello"})

    # -- display: the gallery, and its static copy next to it ----------------------------------

    def _ipython_display_(self) -> None:
        self._static_handles.append(static_copy.display_with_placeholder(self))

    def _write_static_copy(self) -> None:
        combined = self._combined_copy()
        if combined is None or not self._static_handles:
            return
        for handle in self._static_handles:
            handle.update(combined, raw=True)
        recording.finished(self, self._record_final_state)

    def _combined_copy(self) -> dict[str, Any] | None:
        # Each tile made its own copy when it finished (thumbnails fetched if need be): combine those.
        bundles = [tile.static_copy for tile in self._tiles if tile.static_copy is not None]
        if not bundles:
            return None
        return {
            "text/plain": "\n".join(b["text/plain"] for b in bundles),
            "text/html": f'<div data-conduit-static="{self.static_id}" style="display:flex;flex-wrap:wrap;gap:8px">'
            + "".join(b["text/html"] for b in bundles)
            + "</div>",
        }

    def _record_final_state(self) -> None:
        # Under the cell an executor is running (see recording): the tiles, pictures and header as they ended, and
        # the copy. The tiles' own widgets record themselves.
        self.send_state([name for name in self.keys if not name.startswith("_")])
        combined = self._combined_copy()
        for handle in self._static_handles if combined is not None else ():
            handle.update(combined, raw=True)
