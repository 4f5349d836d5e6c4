"""Real media for the local Conduit: pictures drawn from the prompt (Pillow) and H.264 clips of them (PyAV).

Everything here is CPU-bound and thread-safe: the task runner calls it from worker threads.
"""

from conduit_widget.server.media.drawing import MAX_IMAGE_SIDE, MIN_IMAGE_SIDE, check_image_size, render_image
from conduit_widget.server.media.video import MAX_FPS, RenderedVideo, VideoWriter, check_video_params

__all__ = [
    "MAX_FPS",
    "MAX_IMAGE_SIDE",
    "MIN_IMAGE_SIDE",
    "RenderedVideo",
    "VideoWriter",
    "check_image_size",
    "check_video_params",
    "render_image",
]
