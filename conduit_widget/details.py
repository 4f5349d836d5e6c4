"""The parameter line of a finished run: what Automatic1111 prints under a picture, and a Replicate or fal
playground shows beside it. Model used, real resolution, seed, task id, timings, cost; and the Python call that
makes the same request again ("copy as code").

Everything is computed here, in the kernel, where it is testable: the front end (``js/details.ts``) only lays the
``details`` trait out. A value the run cannot know is left out rather than guessed: the resolution comes from the
media's own header (a video's from its poster frame, else the server's metadata), never from the size asked for.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Final

from conduit_widget.client import seeds
from conduit_widget.client.models import TaskResult
from conduit_widget.client.rest import Routes
from conduit_widget.client.seeds import SeedUse
from conduit_widget.client.task import Task
from conduit_widget.embedding import header_size
from conduit_widget.run_inputs import RunInputs


class RunClock:
    """When a run was submitted, first seen running, and ended (``time.time()`` seconds): its timings."""

    def __init__(self, submitted: float) -> None:
        self.submitted = submitted
        self.running: float | None = None
        self.ended: float | None = None

    def saw(self, status: str, now: float) -> None:
        if self.running is None and status == "processing":
            self.running = now

    def timings(self) -> dict[str, float]:
        if self.ended is None:
            return {}
        found = {"total_seconds": self.ended - self.submitted}
        if self.running is not None:
            found |= {"queued_seconds": self.running - self.submitted, "ran_seconds": self.ended - self.running}
        return {name: round(max(0.0, seconds), 2) for name, seconds in found.items()}


def details_of(
    result: TaskResult,
    run: RunInputs,
    sent: Mapping[str, Any],
    seed: SeedUse,
    media: list[bytes],
    poster: bytes,
    clock: RunClock,
) -> dict[str, Any]:
    """The ``details`` trait: JSON values only. `sent` is the request as posted (its model is the one the client
    chose when the widget said "default")."""
    model = result.metadata.get("model")
    model = model if isinstance(model, str) and model else str(sent.get("model", run.model))
    cost = result.metadata.get("cost")
    found: dict[str, Any] = {
        "model": model,
        "resolution": _resolution(result, media, poster),
        "seed": seed.seed,
        "seed_note": seed.note,
        "task_id": result.task_id,
        "prompt": run.prompt,
        "cost": cost if isinstance(cost, int | float) and not isinstance(cost, bool) else None,
        "code": code_for(run, model, seed.seed),
        **clock.timings(),
    }
    return found


def _resolution(result: TaskResult, media: list[bytes], poster: bytes) -> str:
    if result.kind == "video":
        size = mp4_size(media[0]) if media else None
        size = size or (header_size(poster) if poster else None)
    else:
        size = header_size(media[0]) if media else None
    if size is not None:
        return f"{size[0]}x{size[1]}"
    said = result.metadata.get("resolution")
    return said if isinstance(said, str) else ""


_MP4_CONTAINERS: Final = (b"moov", b"trak")


def mp4_size(data: bytes) -> tuple[int, int] | None:
    """The width and height of an MP4's first visual track, from its track header (`tkhd`, ISO/IEC 14496-12
    8.3.2: the last eight bytes, 16.16 fixed point); None where the file has none."""
    return _tkhd_size(data, 0, len(data))


def _tkhd_size(data: bytes, at: int, end: int) -> tuple[int, int] | None:
    while at + 8 <= end:
        length, name, header = int.from_bytes(data[at : at + 4]), data[at + 4 : at + 8], 8
        if length == 1 and at + 16 <= end:  # a 64-bit length follows the name
            length, header = int.from_bytes(data[at + 8 : at + 16]), 16
        elif length == 0:  # to the end of the file
            length = end - at
        if length < header or at + length > end:
            return None
        if name in _MP4_CONTAINERS:
            found = _tkhd_size(data, at + header, at + length)
            if found is not None:
                return found
        elif name == b"tkhd" and length >= 20:
            width, height = (
                int.from_bytes(data[at + length - 8 : at + length - 4]) >> 16,
                int.from_bytes(data[at + length - 4 : at + length]) >> 16,
            )
            if width and height:  # an audio track says 0 x 0
                return width, height
        at += length
    return None


def code_for(run: RunInputs, model: str, seed: int | None) -> str:
    """The Python call that makes this request again. Literals are Python's own (`repr`), so quotes, backslashes
    and newlines in a prompt come out as a string Python reads back as the same prompt."""
    arguments = [repr(run.prompt)]
    if run.kind != "image":
        arguments.append(f"kind={run.kind!r}")
    arguments.append(f"model={model!r}")
    if run.size:
        arguments.append(f"size={run.size!r}")
    if run.kind == "image" and run.n != 1:
        arguments.append(f"n={run.n}")
    if run.kind == "video" and run.duration:
        arguments.append(f"duration={int(run.duration)}")
    if seed is not None:
        arguments.append(f"seed={seed}")
    return f"GenerationWidget({', '.join(arguments)})"


def details_after(
    result: TaskResult, run: RunInputs, task: Task, routes: Routes, held: tuple[list[bytes], bytes], clock: RunClock
) -> dict[str, Any]:
    """`details_of` for a run that just ended: `held` is the media and poster the widget holds."""
    if clock.ended is None:  # a run adopted after it ended (request_memo) shares the clock of the one that ran it
        clock.ended = time.time()
    sent = task.request or {}
    seed = seeds.seed_use(result.kind, sent.get("seed"), result.metadata, routes)
    return details_of(result, run, sent, seed, held[0], held[1], clock)
