"""Runs generation tasks the way a provider would: paced steps with progress, then real media.

Pacing is asyncio sleeps divided by the server's speed; the rendering itself (Pillow, PyAV) runs in worker
threads so the event loop keeps serving hubs and routes meanwhile. State changes are saved to the store
before they are announced, so a client that polls after an event never sees an older state.

At most ``config.max_renders`` videos render at once (a video holds its slot from "processing" to its ending, as
its encoder holds its frames): the rest stay queued, as behind a provider's queue, and a flood of large videos
costs that many renders' memory and no more. Images need no slot: each is drawn in one call on asyncio's worker
threads, whose pool (a few threads) already bounds how many are drawn at once, and a thousand small ones may be
under way together. A provider that never answers (the test-hang model) gives its slot back while it waits.

Which steps are announced, and in which words, is the profile's: a sampler's every step (the local models'
own cadence), a start and each stored image (7c3fd76a), or a start alone (the Gateway's images); for videos,
frame counts (the local models), MiniMax's status words (the only provider 7c3fd76a reports progress for), or
the provider's words with frame counts (the Gateway).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Final

from conduit_widget import protocol
from conduit_widget.server import events
from conduit_widget.server.catalogue import TEST_FLAKY_MODEL, Model, find_model
from conduit_widget.server.config import ServerConfig
from conduit_widget.server.hub.hubs import Hubs
from conduit_widget.server.media import VideoWriter, render_image
from conduit_widget.server.profiles import Profile
from conduit_widget.server.store import MAX_RETRIES, TaskRecord, TaskStore, utcnow

log = logging.getLogger(__name__)

QUEUE_SECONDS: Final = 0.2
IMAGE_SECONDS: Final = 5.0  # per image at speed 1, like a hosted diffusion model
IMAGE_STEPS: Final = 20
VIDEO_SETUP_SECONDS: Final = 1.5
VIDEO_SECONDS_PER_SECOND: Final = 3.25  # a 4 s clip takes about 15 s at speed 1
FAIL_AT: Final = 0.4  # test-fail gives up this far in
HANG_AT: Final = 0.5  # test-hang stops here
# MiniMax's status words and the progress 7c3fd76a reports for each (MiniMaxClient.Videos.cs); "Processing" climbs.
_MINIMAX_STEPS: Final = (("Preparing", 10), ("Queueing", 20), ("Pending", 30))


class _Failure(Exception):
    def __init__(self, message: str, code: str, retryable: bool) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable


class _RenderSlot:
    """One of the runner's render slots, held from entry until given back or left, whichever is first."""

    def __init__(self, slots: asyncio.Semaphore | None) -> None:
        self._slots = slots  # None: a task that needs no slot
        self._held = False

    async def __aenter__(self) -> _RenderSlot:
        if self._slots is not None:
            await self._slots.acquire()
            self._held = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.give_back()

    def give_back(self) -> None:
        if self._held and self._slots is not None:
            self._held = False
            self._slots.release()


class TaskRunner:
    def __init__(self, config: ServerConfig, profile: Profile, store: TaskStore, hubs: Hubs, media_dir: Path) -> None:
        self._config = config
        self._profile = profile
        self._store = store
        self._hubs = hubs
        self._media_dir = media_dir
        self._running: dict[str, asyncio.Task[None]] = {}
        self._render_slots = asyncio.Semaphore(config.max_renders)
        self._slots: dict[str, _RenderSlot] = {}  # by task id, while the task holds one

    def start(self, record: TaskRecord) -> None:
        task = asyncio.create_task(self._run(record), name=f"conduit-task-{record.id}")
        self._running[record.id] = task
        task.add_done_callback(lambda _: self._running.pop(record.id, None))

    def resume_unfinished(self, base_url: str) -> int:
        """Start again every task a previous run of the server left unfinished; its events will carry
        media URLs on `base_url`, since the origin it was created through may be gone."""
        unfinished = self._store.unfinished()
        for record in unfinished:
            record.base_url = base_url
            record.status, record.progress, record.message = (
                protocol.PENDING,
                0,
                "Resumed after a server restart",
            )
            self._store.save(record)
            self.start(record)
        return len(unfinished)

    def cancel(self, record: TaskRecord, reason: str) -> None:
        """Stop the task and record it cancelled, announced as the profile's server announces it (or not at all)."""
        if record.status == protocol.CANCELLED:
            return
        task = self._running.pop(record.id, None)
        if task is not None:
            task.cancel()
        record.status, record.message, record.completed_at = protocol.CANCELLED, reason, utcnow()
        record.error = reason  # kept as the real servers keep it; only the video route shows it
        self._store.save(record)
        self._publish(record, events.cancelled(self._profile, record))

    async def close(self) -> None:
        """Stop work without marking tasks cancelled: a restart on the same data dir resumes them."""
        tasks = list(self._running.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- one task ----------------------------------------------------------------------------

    async def _run(self, record: TaskRecord) -> None:
        model = find_model(record.model, record.kind)
        slowdown = model.slowdown if model else 1.0
        await self._sleep(QUEUE_SECONDS, slowdown)
        # The whole of processing, its ending recorded included, happens in the slot: a task's recorded
        # started_at..completed_at is when it rendered, and no more than max_renders of them overlap.
        async with _RenderSlot(self._render_slots if record.kind == "video" else None) as slot:
            self._slots[record.id] = slot
            try:
                await self._render(record, model, slowdown)
            finally:
                del self._slots[record.id]

    async def _render(self, record: TaskRecord, model: Model | None, slowdown: float) -> None:
        try:
            if model is None:  # taken without a check (the Gateway's videos), refused by the orchestrator
                raise _Failure(
                    f"Model '{record.model}' is not configured or mapped to a provider. Please check your model "
                    "configuration.",
                    "MODEL_NOT_FOUND",
                    retryable=False,
                )
            record.status, record.started_at, record.progress = protocol.PROCESSING, utcnow(), 0
            record.message = "Starting"
            self._store.save(record)
            if record.kind == "image":
                await self._run_image(record, slowdown)
            else:
                await self._run_video(record, slowdown)
        except _Failure as failure:
            record.status, record.error, record.error_code = protocol.FAILED, str(failure), failure.code
            record.is_retryable, record.completed_at = failure.retryable, utcnow()
            self._store.save(record)
            self._publish(record, events.failed(self._profile, record, MAX_RETRIES))
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("task %s failed inside the local Conduit", record.id)
            record.status, record.error, record.error_code = (
                protocol.FAILED,
                f"Internal error: {exc}",
                "INTERNAL",
            )
            record.is_retryable, record.completed_at = True, utcnow()
            self._store.save(record)
            self._publish(record, events.failed(self._profile, record, MAX_RETRIES))
            return
        record.status, record.progress, record.completed_at = protocol.COMPLETED, 100, utcnow()
        record.message = "Completed"
        assert record.started_at is not None
        record.media_info["generation_seconds"] = round((record.completed_at - record.started_at).total_seconds(), 3)
        self._store.save(record)
        self._publish(record, events.completed(self._profile, record))

    async def _run_image(self, record: TaskRecord, slowdown: float) -> None:
        n, steps = record.params["n"], IMAGE_STEPS
        cadence = self._profile.image_progress
        # Every version announces the start; 7c3fd76a's says nothing more than that it started.
        self._progress(record, "processing", 0, n, percent=0, message="Starting" if cadence == "steps" else None)
        for index in range(n):
            for step in range(1, steps + 1):
                await self._sleep(IMAGE_SECONDS / steps, slowdown)
                fraction = (index * steps + step) / (n * steps)
                await self._inject(record, fraction)
                suffix = f" (image {index + 1} of {n})" if n > 1 else ""
                # Stays below 100 until the files are stored: 100 means "done", only sent on completion.
                self._progress(
                    record,
                    "processing",
                    index,
                    n,
                    percent=int(99 * fraction),
                    message=f"Sampling step {step}/{steps}{suffix}",
                    announce=cadence == "steps",
                )
            png = await asyncio.to_thread(
                render_image,
                record.prompt,
                seed=record.params["seed"],
                width=record.params["width"],
                height=record.params["height"],
                index=index,
            )
            name = f"image-{index}.png"
            await self._write(record, name, png)
            record.media.append(name)
            # The real orchestrator's storage poller: each stored image, as a share of them all.
            percent = record.progress if cadence == "steps" else (index + 1) * 100 // n
            self._progress(
                record,
                "storing",
                index + 1,
                n,
                percent=percent,
                message=f"Processed {index + 1} of {n} images",
                announce=cadence != "start-only",
            )

    async def _run_video(self, record: TaskRecord, slowdown: float) -> None:
        params = record.params
        writer = VideoWriter(
            record.prompt,
            seed=params["seed"],
            width=params["width"],
            height=params["height"],
            duration=params["duration"],
            fps=params["fps"],
        )
        total = writer.total_frames
        estimate = (VIDEO_SETUP_SECONDS + VIDEO_SECONDS_PER_SECOND * params["duration"]) * slowdown
        self._publish(record, events.started(self._profile, record, estimate / self._config.speed))
        try:
            self._video_progress(record, "initializing", 0, total, percent=0, message="Loading the local video model")
            await self._sleep(VIDEO_SETUP_SECONDS, slowdown)
            self._video_progress(record, "initializing", 0, total, percent=5, message="Model ready")
            chunks = max(8, round(params["duration"] * 4))
            per_chunk = VIDEO_SECONDS_PER_SECOND * params["duration"] / chunks
            per_write = -(-total // chunks)  # ceiling division
            while writer.frames_written < total:
                started = time.monotonic()
                await asyncio.to_thread(writer.write_frames, per_write)
                fraction = writer.frames_written / total
                await self._inject(record, fraction)
                self._video_progress(
                    record,
                    "processing_frames",
                    writer.frames_written,
                    total,
                    percent=5 + int(85 * fraction),
                    message=f"Rendered frame {writer.frames_written} of {total}",
                )
                await self._sleep(max(0.0, per_chunk - (time.monotonic() - started) * self._config.speed), slowdown)
            self._video_progress(record, "encoding", total, total, percent=92, message="Encoding H.264")
            video = await asyncio.to_thread(writer.finish)
        finally:
            writer.close()
        self._video_progress(record, "finalizing", total, total, percent=97, message="Storing the video")
        await self._write(record, "video.mp4", video.data)
        await self._write(record, "poster.png", video.poster_png)
        record.media, record.poster = ["video.mp4"], "poster.png"
        record.media_info.update(
            duration=video.duration,
            file_size=len(video.data),
            codec=video.codec,
            mime_type=video.mime_type,
            frames=video.frames,
        )

    # -- helpers -----------------------------------------------------------------------------

    def _progress(
        self,
        record: TaskRecord,
        stage: str,
        done: int | None,
        total: int | None,
        *,
        percent: int,
        message: str | None,
        announce: bool = True,
    ) -> None:
        # Progress lives in memory only: a restart begins the task again, so persisting it buys nothing.
        record.progress, record.message, record.updated_at = percent, message, utcnow()
        if announce:
            self._publish(record, events.progress(self._profile, record, stage=stage, done=done, total=total))

    def _video_progress(
        self, record: TaskRecord, phase: str, done: int, total: int, *, percent: int, message: str
    ) -> None:
        """One step of a video, in the words of the profile's server."""
        mode = self._profile.video_progress
        if mode == "frames":
            self._progress(record, phase, done, total, percent=percent, message=message)
        elif mode == "provider":  # the Gateway passes on what the provider says, with its frame counts
            self._progress(record, "processing", done, total, percent=percent, message="Video generation processing")
        else:  # what MiniMax's polls say: a few fixed steps, then "Processing" from 30 to 90, without frames
            status, share = (
                ("Processing", 30 + (percent - 5) * 60 // 85) if percent > 5 else _MINIMAX_STEPS[percent // 5]
            )
            share = min(90, max(share, record.progress))
            self._progress(record, status, None, None, percent=share, message=f"Video generation {status.lower()}")

    async def _inject(self, record: TaskRecord, fraction: float) -> None:
        if record.model == protocol.TEST_FAIL_MODEL and fraction >= FAIL_AT:
            raise _Failure(
                f"The provider failed part-way through (model '{protocol.TEST_FAIL_MODEL}' always does).",
                "PROVIDER_ERROR",
                retryable=True,
            )
        if record.model == TEST_FLAKY_MODEL and record.retry_count == 0 and fraction >= FAIL_AT:
            raise _Failure(
                f"The provider failed part-way through (model '{TEST_FLAKY_MODEL}' does on a first attempt).",
                "PROVIDER_ERROR",
                retryable=True,
            )
        if record.model == protocol.TEST_HANG_MODEL and fraction >= HANG_AT:
            record.message = f"Waiting for the provider (model '{protocol.TEST_HANG_MODEL}' never finishes)"
            self._store.save(record)
            self._slots[record.id].give_back()  # waiting renders nothing: other tasks may render meanwhile
            await asyncio.get_running_loop().create_future()  # until cancelled

    async def _sleep(self, seconds: float, slowdown: float) -> None:
        await asyncio.sleep(seconds * slowdown / self._config.speed)

    async def _write(self, record: TaskRecord, name: str, data: bytes) -> None:
        folder = self._media_dir / record.id
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        await asyncio.to_thread((folder / name).write_bytes, data)

    def _publish(self, record: TaskRecord, hub_events: list[events.HubEvent]) -> None:
        self._hubs.publish(record.kind, record.id, hub_events)
