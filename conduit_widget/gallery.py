"""`Gallery`: many generations side by side, filling in as they finish (the seed hook's tasks map)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import ipywidgets

from conduit_widget import static_copy
from conduit_widget.client import ConduitClient, ConduitError, ConfigurationError, inputs
from conduit_widget.client.models import TaskResult, TaskUpdate
from conduit_widget.widget import GenerationWidget


class Gallery(ipywidgets.GridBox):  # type: ignore[misc]
    """A grid of compact GenerationWidgets. ``await gallery.generate_many(["a fox", "a cat"])``."""

    def __init__(self, client: ConduitClient | None = None, columns: int = 4, **kwargs: Any) -> None:
        if not isinstance(columns, int) or isinstance(columns, bool) or not 1 <= columns <= 12:
            raise ConfigurationError(f"columns must be a whole number from 1 to 12, got {columns!r:.80}")
        if client is not None and not isinstance(client, ConduitClient):
            raise ConfigurationError(f"client must be a ConduitClient (or None for the default), got {client!r:.80}")
        unknown = sorted(name for name in kwargs if not self.has_trait(name))
        if unknown:
            raise ConfigurationError(f"Gallery got unknown argument(s): {', '.join(unknown)}")
        layout = ipywidgets.Layout(grid_template_columns=f"repeat({columns}, minmax(0, 1fr))", grid_gap="8px")
        super().__init__(children=(), layout=layout, **kwargs)
        self._client = client
        self._static_handles: list[Any] = []
        self._tiles: list[GenerationWidget] = []  # the tiles it made, to close with it
        self._closed = False

    @property
    def widgets(self) -> list[GenerationWidget]:
        return [child for child in self.children if isinstance(child, GenerationWidget)]

    @property
    def tasks(self) -> dict[str, TaskUpdate]:
        """Each task's latest state, by task id (tasks not yet created are not in it)."""
        return {w.task.id: w.task.update for w in self.widgets if w.task is not None}

    async def generate_many(
        self, prompts: Iterable[str], *, kind: str = "image", concurrency: int = 4, **options: Any
    ) -> list[TaskResult | None]:
        """Add a tile per prompt and generate them, `concurrency` at a time; the results in prompt order
        (None where the input was refused: the tile says why)."""
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
        tiles = [
            GenerationWidget(p, kind=kind, client=self._client, auto_start=False, compact=True, **options)
            for p in prompts
        ]
        self._tiles += tiles
        self.children = (*self.widgets, *tiles)
        slots = asyncio.Semaphore(concurrency)

        async def run(tile: GenerationWidget) -> TaskResult | None:
            async with slots:
                job = tile.generate()
                if job is None:
                    return None
                await job
                return tile.result

        results = await asyncio.gather(*(run(tile) for tile in tiles))
        self._write_static_copy()
        return list(results)

    def close(self) -> None:
        """Close the gallery with the tiles it made (their tasks go on on the server). ipywidgets would close
        neither its children nor its Layout: each would stay registered, comm open, while the kernel runs."""
        if "_tiles" not in self.__dict__:  # its construction failed (ipywidgets' __del__ closes it all the same)
            super().close()
            return
        self._closed = True
        tiles, self._tiles = self._tiles, []
        for tile in tiles:
            tile.close()
        layout = self.layout
        super().close()
        layout.close()

    def _ipython_display_(self) -> None:
        self._static_handles.append(static_copy.display_with_placeholder(self))

    def _write_static_copy(self) -> None:
        # Each tile made its own copy when it finished (thumbnails fetched if need be): combine those.
        bundles = [tile.static_copy for tile in self.widgets if tile.static_copy is not None]
        if not bundles or not self._static_handles:
            return
        combined = {
            "text/plain": "\n".join(b["text/plain"] for b in bundles),
            "text/html": '<div style="display:flex;flex-wrap:wrap;gap:8px">'
            + "".join(b["text/html"] for b in bundles)
            + "</div>",
        }
        for handle in self._static_handles:
            handle.update(combined, raw=True)
