"""H.264 clips of a prompt's picture in motion, encoded with PyAV in chunks so progress can be reported."""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import threading
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

import av
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc
from PIL import Image, ImageDraw

from conduit_widget.server.media.drawing import (
    Font,
    background,
    build_scene,
    caption_font,
    check_sides,
    draw_caption,
    draw_motion,
    to_png,
)

MAX_FPS: Final = 60


def check_video_params(width: int, height: int, duration: float, fps: int) -> None:
    """Raise ValueError unless the clip can be encoded as H.264 4:2:0 at a sane frame rate."""
    check_sides("video", width, height)
    if width % 2 or height % 2:
        raise ValueError(f"video width and height must be even numbers, got {width}x{height}")
    if not math.isfinite(duration) or duration <= 0:
        raise ValueError(f"video duration must be a positive number of seconds, got {duration!r}")
    if not 1 <= fps <= MAX_FPS:
        raise ValueError(f"video fps must be between 1 and {MAX_FPS}, got {fps!r}")


@dataclass(frozen=True)
class RenderedVideo:
    """An encoded clip and what a client needs to show it."""

    data: bytes
    poster_png: bytes
    mime_type: str
    codec: str
    width: int
    height: int
    fps: int
    frames: int
    duration: float


class VideoWriter:
    """Renders and encodes a clip in chunks so the caller can report progress between chunks.

    The constructor only validates; rendering and encoding happen in ``write_frames`` and ``finish``, which
    belong in a worker thread. ``close`` may be called from any thread at any time, even while another
    thread is inside ``write_frames`` (an ``asyncio.to_thread`` call whose task was cancelled).
    """

    def __init__(self, prompt: str, *, seed: int, width: int, height: int, duration: float, fps: int = 24) -> None:
        check_video_params(width, height, duration, fps)
        self.width, self.height, self.fps = width, height, fps
        self.total_frames = max(1, round(duration * fps))
        self.frames_written = 0
        # index 0: a clip of a prompt looks like the first picture of the same prompt and seed.
        self._scene = build_scene(prompt, seed, 0)
        self._pan = max(2, round(width * 0.08))
        self._lock = threading.Lock()
        self._abandoned = False
        self._encoder: _Encoder | None = None
        # Set by _open, in the worker thread: drawing the still background is the costly part of setup.
        self._background: Image.Image
        self._font: Font
        self._band: int
        self._poster: Image.Image | None = None
        self._result: RenderedVideo | None = None

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def write_frames(self, count: int) -> int:
        """Render and encode up to ``count`` more frames; return how many were written."""
        try:
            with self._lock:
                encoder = self._open()
                written = 0
                while written < count and self.frames_written < self.total_frames and not self._abandoned:
                    self._write_frame(encoder, self.frames_written)
                    self.frames_written += 1
                    written += 1
                return written
        finally:
            self._release_if_abandoned()

    def finish(self) -> RenderedVideo:
        """Write any frames still missing, flush the encoder and return the clip (again, if called twice)."""
        try:
            with self._lock:
                if self._result is not None:
                    return self._result
                encoder = self._open()
                while self.frames_written < self.total_frames and not self._abandoned:
                    self._write_frame(encoder, self.frames_written)
                    self.frames_written += 1
                if self._abandoned:
                    raise RuntimeError("the video writer was closed before the clip was finished")
                data = encoder.finish()
                self._encoder = None
                assert self._poster is not None  # frame total_frames // 2 is always written
                self._result = RenderedVideo(
                    data=data,
                    poster_png=to_png(self._poster),
                    mime_type="video/mp4",
                    codec="h264",
                    width=self.width,
                    height=self.height,
                    fps=self.fps,
                    frames=self.total_frames,
                    duration=self.total_frames / self.fps,
                )
                return self._result
        finally:
            self._release_if_abandoned()

    def close(self) -> None:
        """Abandon the clip (a cancelled task): free the encoder and its file; never raises, never waits."""
        self._abandoned = True
        self._release_if_abandoned()

    def _open(self) -> _Encoder:
        if self._abandoned or self._result is not None:
            raise RuntimeError("the video writer is already finished or closed")
        if self._encoder is None:
            self._background = background(self._scene, self.width + self._pan, self.height)
            self._font, self._band = caption_font(self.height)
            self._encoder = _Encoder(self.width, self.height, self.fps)
        return self._encoder

    def _release_if_abandoned(self) -> None:
        # Whoever holds the lock checks the flag again after letting go, so a close() that found the lock
        # taken is always carried out, and never frees the encoder under a thread that is using it.
        if not self._abandoned or not self._lock.acquire(blocking=False):
            return
        try:
            encoder, self._encoder = self._encoder, None
            if encoder is not None:
                encoder.discard()
        finally:
            self._lock.release()

    def _write_frame(self, encoder: _Encoder, i: int) -> None:
        t = i / self.total_frames
        # Pan out and back, so the last frame leads into the first when the clip loops.
        left = round(self._pan * (0.5 - 0.5 * math.cos(2 * math.pi * t)))
        frame = self._background.crop((left, 0, left + self.width, self.height))
        draw = ImageDraw.Draw(frame, "RGBA")
        draw_motion(self._scene, draw, self.width, self.height, t)
        progress = (i + 1) / self.total_frames
        draw_caption(draw, self._scene.caption, self._font, self._band, self.width, self.height, progress)
        if i == self.total_frames // 2:
            self._poster = frame
        encoder.write(frame, i)


class _Encoder:
    """libx264 into an MP4 file, one frame per tick of 1/fps."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        self._time_base = Fraction(1, fps)
        # faststart moves the index ahead of the data by reopening the output by name after writing, which
        # a BytesIO cannot do (FFmpeg fails with "No such file or directory: '<none>'"), so use a file.
        fd, self._path = tempfile.mkstemp(prefix="conduit-video-", suffix=".mp4")
        os.close(fd)
        try:
            self._container = av.open(self._path, "w", format="mp4", options={"movflags": "+faststart"})
        except BaseException:
            os.unlink(self._path)
            raise
        try:
            self._stream = self._container.add_stream("libx264", rate=fps)
            self._stream.width, self._stream.height, self._stream.pix_fmt = width, height, "yuv420p"
            # One frame per tick: the container's duration is then exactly frames / fps.
            self._stream.time_base = self._time_base
            self._stream.options = {"preset": "veryfast", "crf": "23"}
            context = self._stream.codec_context
            context.gop_size = 2 * fps  # a keyframe every 2 s keeps seeking in <video> snappy
            # Convert with BT.709 and say so in the file: untagged, a player guesses BT.601 or BT.709 by size.
            context.colorspace, context.color_range = Colorspace.ITU709, ColorRange.MPEG
            context.color_primaries, context.color_trc = ColorPrimaries.BT709, ColorTrc.BT709
        except BaseException:
            self.discard()
            raise

    def write(self, image: Image.Image, pts: int) -> None:
        rgb = av.VideoFrame.from_image(image)  # type: ignore[no-untyped-call]  # untyped in PyAV 18
        frame = rgb.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)
        frame.pts, frame.time_base = pts, self._time_base
        self._container.mux(self._stream.encode(frame))

    def finish(self) -> bytes:
        try:
            self._container.mux(self._stream.encode(None))
            self._container.close()
            with open(self._path, "rb") as encoded:
                return encoded.read()
        finally:
            self.discard()

    def discard(self) -> None:
        # A half-written file we are about to delete may fail to close; nobody wants it any more.
        with contextlib.suppress(Exception):
            self._container.close()
        with contextlib.suppress(OSError):
            os.unlink(self._path)
